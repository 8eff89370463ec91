# Sourced by .ci/run (bash): a throwaway PostgreSQL server for the tests.
#
# Installs Debian's PostgreSQL when initdb/pg_ctl are missing, creates a cluster in a temp directory
# owned by a non-root user (initdb refuses root), starts it on a free 127.0.0.1 port with its unix
# socket inside that directory, creates a role and a database, exports TEST_DATABASE_URL_PG, and stops
# and deletes everything when the calling shell exits. Durability is off (fsync=off): test data only.
#
# Sets an EXIT trap (the caller must not need its own).
# Standalone use, for a local run:  bash -c 'source .ci/postgres.sh; echo "$TEST_DATABASE_URL_PG"; bash'

_pg_find_bin() {
  # Debian keeps the server binaries out of PATH, under /usr/lib/postgresql/<version>/bin.
  local dir
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v pg_ctl)")"
    return 0
  fi
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

_pg_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

_pg_stop() {
  [[ -n "${_PG_DIR:-}" && -d "$_PG_DIR" ]] || return 0
  if [[ -f "$_PG_DIR/data/postmaster.pid" ]]; then
    _pg_as_owner "$_PG_BIN/pg_ctl" -D "$_PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$_PG_DIR"
}

_pg_as_owner() {
  if [[ "$(id -u)" == 0 ]]; then
    # runuser lives in /usr/sbin, which a minimal PATH may lack.
    "$(command -v runuser || echo /usr/sbin/runuser)" -u postgres -- "$@"
  else
    "$@"
  fi
}

_pg_start() {
  _PG_BIN="$(_pg_find_bin)" || {
    echo "   installing Debian's postgresql"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    _PG_BIN="$(_pg_find_bin)" || { echo "postgres.sh: no initdb/pg_ctl after installing postgresql" >&2; return 1; }
  }
  if [[ "$(id -u)" == 0 ]] && ! id postgres >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin postgres
  fi

  _PG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/vidu-pg.XXXXXX")"
  trap _pg_stop EXIT
  mkdir -p "$_PG_DIR/sock"
  if [[ "$(id -u)" == 0 ]]; then chown -R postgres: "$_PG_DIR"; fi

  local port password log
  port="$(_pg_free_port)"
  password="vidu-test-$(python3 -c 'import secrets; print(secrets.token_hex(8))')"
  log="$_PG_DIR/server.log"

  # Superuser "postgres" over the unix socket only (trust); TCP clients log in with a password.
  _pg_as_owner "$_PG_BIN/initdb" -D "$_PG_DIR/data" -U postgres -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >"$_PG_DIR/initdb.log" 2>&1 \
    || { cat "$_PG_DIR/initdb.log" >&2; return 1; }
  _pg_as_owner "$_PG_BIN/pg_ctl" -D "$_PG_DIR/data" -l "$log" -w -t 60 start -o \
    "-c listen_addresses=127.0.0.1 -p $port -k $_PG_DIR/sock -c fsync=off -c synchronous_commit=off \
     -c full_page_writes=off -c max_connections=200" >/dev/null \
    || { cat "$log" >&2; return 1; }

  _pg_as_owner "$_PG_BIN/psql" -q -v ON_ERROR_STOP=1 -h "$_PG_DIR/sock" -p "$port" -U postgres -d postgres \
    -c "CREATE ROLE vidu LOGIN PASSWORD '$password'" \
    -c "CREATE DATABASE vidu_test OWNER vidu" >/dev/null
  export TEST_DATABASE_URL_PG="postgresql://vidu:$password@127.0.0.1:$port/vidu_test"
  echo "   PostgreSQL $("$_PG_BIN/pg_ctl" --version | awk '{print $3}') on 127.0.0.1:$port (data in $_PG_DIR)"
}

_pg_start

# Sourced by .ci/run (bash): Debian's Chromium for the demo page's test (tests/demo), installed when missing,
# as postgres.sh installs PostgreSQL. The test fails instead of skipping while VIDU_TEST_REQUIRE_CHROMIUM is set.

if ! command -v chromium >/dev/null 2>&1; then
  echo "   installing Debian's chromium"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
  command -v chromium >/dev/null 2>&1 || { echo "chromium.sh: no chromium after installing it" >&2; return 1; }
fi
echo "   $(chromium --version 2>/dev/null | head -n 1)"
export VIDU_TEST_REQUIRE_CHROMIUM=1

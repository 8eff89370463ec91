"""A PostgreSQL server of the test's own, which the test may stop and start again (the shared one that
.ci/postgres.sh runs serves every other test at the same time, so it must stay up).

Made with the same server programs .ci/postgres.sh uses (Debian's, which it installs when missing): a fresh
cluster in a temporary folder, on a free loopback port, durability off. Root cannot run PostgreSQL, so as
root the cluster belongs to the `postgres` user, as in .ci/postgres.sh.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest


def server_programs() -> Path | None:
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).resolve().parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PrivateServer:
    """`create()` makes and starts it; `stop()`/`start()` as an operator's restart would; `destroy()`."""

    def __init__(self, programs: Path, folder: Path, port: int) -> None:
        self._programs = programs
        self.folder = folder
        self.port = port
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    @classmethod
    def create(cls) -> PrivateServer:
        programs = server_programs()
        if programs is None:
            pytest.skip("needs PostgreSQL's server programs (initdb, pg_ctl): .ci/postgres.sh installs them")
        folder = Path(tempfile.mkdtemp(prefix="vidu-pg-own."))
        (folder / "sock").mkdir()
        if os.getuid() == 0:
            shutil.chown(folder, "postgres")
            shutil.chown(folder / "sock", "postgres")
        server = cls(programs, folder, _free_port())
        server._as_owner("initdb", "-D", str(folder / "data"), "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8",
                         "--auth=trust")
        server.start()
        return server

    def start(self) -> None:
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder / 'sock'} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        self._as_owner("pg_ctl", "-D", str(self.folder / "data"), "-l", str(self.folder / "server.log"), "-w",
                       "-t", "60", "start", "-o", options)

    def stop(self) -> None:
        """Fast shutdown: open sessions are ended (as in a restart or a failover), the server is gone."""
        self._as_owner("pg_ctl", "-D", str(self.folder / "data"), "-m", "fast", "-w", "-t", "60", "stop")

    def destroy(self) -> None:
        if (self.folder / "data" / "postmaster.pid").exists():
            self._as_owner("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)

    def _as_owner(self, program: str, *args: str) -> None:
        command = [str(self._programs / program), *args]
        if os.getuid() == 0:
            command = [shutil.which("runuser") or "/usr/sbin/runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{program} failed ({done.returncode}): {done.stdout}{done.stderr}")

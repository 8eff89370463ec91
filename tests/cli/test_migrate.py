"""`python -m bot migrate`: applies the migrations DATABASE_URL needs and lists them, on both backends."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import pytest

from bot.db.migration_files import MIGRATIONS_ROOT
from tests.store.backends import backend_params, pg_url, sqlite_url


def shipped(backend: str) -> list[str]:
    return sorted((p.name for p in (MIGRATIONS_ROOT / backend).glob("V*.sql")),
                  key=lambda name: int(name[1:].split("__")[0]))


def database_url(backend: str, tmp_path: Path) -> str:
    return pg_url(tmp_path) if backend == "postgresql" else sqlite_url(tmp_path)


async def migrate(tmp_path: Path, url: str) -> tuple[int, str, str]:
    """Run the CLI as an operator would: only DATABASE_URL set (no Discord token, no provider key)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIDU_", "DISCORD_", "DATABASE_"))}
    env["DATABASE_URL"] = url
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "migrate", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert "Traceback" not in err.decode(), err.decode()
    return process.returncode or 0, out.decode(), err.decode()


@pytest.mark.parametrize("backend", backend_params())
async def test_migrate_applies_every_migration_once_and_says_which(backend: str, tmp_path: Path) -> None:
    url = database_url(backend, tmp_path)
    files = shipped(backend)
    latest = int(files[-1][1:].split("__")[0])  # the highest version (numbers taken by other work may be missing)

    code, out, err = await migrate(tmp_path, url)
    assert code == 0, err
    assert out.splitlines() == [*(f"applied {name}" for name in files), f"schema version {latest}: up to date"]

    code, out, err = await migrate(tmp_path, url)
    assert code == 0, err
    assert out.splitlines() == [f"schema version {latest}: up to date (nothing to apply)"]


@pytest.mark.parametrize("backend", backend_params())
async def test_four_processes_migrating_at_once_apply_each_file_exactly_once(backend: str, tmp_path: Path) -> None:
    url = database_url(backend, tmp_path)
    results = await asyncio.gather(*(migrate(tmp_path, url) for _ in range(4)))

    assert [code for code, _, _ in results] == [0, 0, 0, 0], [err for _, _, err in results]
    applied = sorted(line for _, out, _ in results for line in out.splitlines() if line.startswith("applied "))
    assert applied == sorted(f"applied {name}" for name in shipped(backend))


async def test_an_unreachable_database_is_an_operator_error_without_the_password(tmp_path: Path) -> None:
    with socket.socket() as sock:  # bound, never listening: connections are refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        code, out, err = await migrate(tmp_path, f"postgresql://bot:s3cret-pw@127.0.0.1:{port}/vidu")
    assert code == 3
    assert err.startswith("error: DATABASE_URL: migration failed")
    assert "cannot connect" in err
    assert "s3cret-pw" not in out + err

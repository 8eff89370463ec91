"""Several bot processes sharing Discord's shards on one PostgreSQL database, as an operator runs the bot
when one process is not enough: the fakes with one server per shard, the commands synced once (globally),
and the private PostgreSQL server the soak and the takeover benchmark run on. Linux only.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from benchmarks.harness import PROVIDER_KEY, Fakes, launch_bot
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.world import TestServer, build_test_server
from tests.fakes.provider import FakeProvider
from tests.store.pg_server import PrivateServer, server_programs


async def sharded_fakes(shards: int) -> tuple[Fakes, list[TestServer]]:
    """Started fakes; servers[i] travels on shard i (one server without shards when `shards` is 1)."""
    discord = FakeDiscord()
    servers = ([build_test_server(discord)] if shards == 1 else
               [build_test_server(discord, shard=(i, shards), name=f"Server {i}") for i in range(shards)])
    discord.world = servers[0]
    provider = FakeProvider(api_key=PROVIDER_KEY)
    await discord.start()
    await provider.start()
    return Fakes(discord, provider), servers


async def sync_commands(fakes: Fakes, workdir: Path, **env: str) -> None:
    """`python -m bot sync`: global commands, as an operator does once before starting the processes."""
    sync = await launch_bot(fakes, workdir, "sync", **env)
    if await asyncio.wait_for(sync.process.wait(), 120) != 0:
        raise RuntimeError(f"python -m bot sync failed:\n{sync.tail()}")


async def private_postgres() -> PrivateServer | None:
    """A fresh PostgreSQL server of the benchmark's own; None without the server programs (figures n/a)."""
    if server_programs() is None:
        return None
    return await asyncio.to_thread(PrivateServer.create)

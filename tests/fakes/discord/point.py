"""Point an in-process discord.py at the fake (the real bot does the same from DISCORD_API_BASE/_GATEWAY_URL)."""

from __future__ import annotations

from collections.abc import Callable


def point_discord_py_at(api_base: str, gateway_url: str) -> Callable[[], None]:
    """Set ``Route.BASE`` and ``DiscordWebSocket.DEFAULT_GATEWAY``; returns a function that restores them.

    discord.py then asks ``GET /gateway/bot`` only when sharded, connects to DEFAULT_GATEWAY otherwise,
    and resumes at READY's ``resume_gateway_url`` (the fake answers its own address there).
    """
    import discord.gateway
    import discord.http
    import yarl

    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = api_base.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)

    def restore() -> None:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway

    return restore

"""Shared pytest fixtures. Helpers append their own; keep each block self-contained."""

# --- fake Discord (tests/fakes/discord) ---
from tests.fakes.discord.fixtures import fake_discord  # noqa: F401

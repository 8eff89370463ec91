"""Shared pytest fixtures. Helpers append their own; keep each block self-contained."""

# --- fake Discord (tests/fakes/discord) ---
from tests.fakes.discord.fixtures import fake_discord  # noqa: F401

# --- PostgreSQL test schemas (tests/store/backends.py): each test's own schema is dropped after it ---
from tests.store.backends import drop_pg_test_schemas  # noqa: F401

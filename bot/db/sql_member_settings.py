"""Members' own defaults (/settings; bot/member_settings.py) for both SQL stores, over the dialect's pieces."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.db.dialect import SqlDialect
from bot.member_settings import SETTING_NAMES, MemberSettings

_COLUMNS = ", ".join(SETTING_NAMES)
_FLAGS = ("private", "confirm_cost")


class SqlMemberSettings(SqlDialect):
    """The member_settings table (migration V12): one row per (server, member) with a default set."""

    async def member_settings(self, guild_id: int, user_id: int) -> MemberSettings:
        arg = self._params()
        rows = await self._fetch_rows(
            f"SELECT {_COLUMNS} FROM member_settings WHERE guild_id = {arg(guild_id)} AND user_id = {arg(user_id)}",
            arg.values)
        return _settings_of(rows[0]) if rows else MemberSettings()

    async def update_member_settings(self, guild_id: int, user_id: int, changes: Mapping[str, object | None], *,
                                     now: datetime) -> MemberSettings:
        unknown = set(changes) - set(SETTING_NAMES)
        if unknown:  # column names go into the statement: only ours
            raise ValueError(f"not a member setting: {sorted(unknown)}")
        names = list(changes)
        arg = self._params()  # placeholders in the order they appear (SQLite's are positional)
        member = f"{arg(guild_id)}, {arg(user_id)}"
        values = [self._value(name, changes[name], arg) for name in names]
        updated_at = arg(self._time(now, "update_member_settings(now)"))
        sets = ", ".join(f"{name} = excluded.{name}" for name in [*names, "updated_at"])
        async with self._write() as conn:
            rows = await self._conn_rows(
                conn,
                f"INSERT INTO member_settings (guild_id, user_id, {''.join(n + ', ' for n in names)}updated_at) "
                f"VALUES ({member}, {''.join(v + ', ' for v in values)}{updated_at}) "
                f"ON CONFLICT (guild_id, user_id) DO UPDATE SET {sets} RETURNING {_COLUMNS}",
                arg.values)
        return _settings_of(rows[0])

    async def reset_member_settings(self, guild_id: int, user_id: int) -> bool:
        arg = self._params()
        async with self._write() as conn:
            removed = await self._conn_count(
                conn, f"DELETE FROM member_settings WHERE guild_id = {arg(guild_id)} AND user_id = {arg(user_id)}",
                arg.values)
        return removed > 0

    def _value(self, name: str, value: object | None, arg: Any) -> str:
        if value is not None and name in _FLAGS:
            value = self._flag(bool(value))
        return str(arg(value))


def _settings_of(row: Any) -> MemberSettings:
    resolution, duration, movement, private, confirm_cost = (row[n] for n in range(len(SETTING_NAMES)))
    return MemberSettings(
        resolution=None if resolution is None else str(resolution),
        duration=None if duration is None else int(duration),
        movement=None if movement is None else str(movement),
        private=None if private is None else bool(private),
        confirm_cost=None if confirm_cost is None else bool(confirm_cost),
    )

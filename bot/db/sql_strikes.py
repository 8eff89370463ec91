"""Flags and strikes (bot/strikes.py) for both SQL stores, written over the dialect's pieces (dialect.py).

A refusal is recorded in one transaction, once per job: its strike row first (the job id is its key, so a
retried write finds it and changes nothing), then its fingerprints, then the member's strikes in the window
are counted and, at the server's limit, the member is paused. The server's lock (the one reservations take)
serialises this per server, so two processes recording two strikes at once count them one after the other
and pause the member once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from bot.db.dialect import SqlDialect
from bot.media.fingerprint import as_hex, from_hex
from bot.strikes import Fingerprint, Kind, RecordedRefusal, StrikeRule, Strikes, pause_reason

# A 64-bit hash in five bands (high bits first): two hashes within 4 bits share at least one band.
BAND_BITS = (13, 13, 13, 13, 12)
_FLAG_COLUMNS = "kind, prompt, pictures"


def bands(value: int) -> list[int]:
    out, shift = [], 64
    for width in BAND_BITS:
        shift -= width
        out.append((value >> shift) & ((1 << width) - 1))
    return out


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class SqlStrikeStore(SqlDialect):
    """The flags' and strikes' reads and writes of a SQL store."""

    async def flags_for_prompts(self, prompts: Collection[str]) -> list[Fingerprint]:
        wanted = sorted(set(prompts))
        if not wanted:
            return []
        arg = self._params()
        digests = arg.one_of([_digest(p) for p in wanted])
        rows = await self._fetch_rows(f"SELECT {_FLAG_COLUMNS} FROM flagged_inputs WHERE prompt_digest {digests}",
                                      arg.values)
        return [flag for flag in map(_flag_of, rows) if flag.prompt in wanted]

    async def has_picture_flags(self) -> bool:
        return bool(await self._fetch_rows("SELECT 1 FROM flagged_inputs WHERE kind = 'picture' LIMIT 1", ()))

    async def flags_near(self, pictures: Collection[int]) -> list[Fingerprint]:
        if not pictures:
            return []
        arg = self._params()
        near = " OR ".join(f"band{n} = {arg(band)}" for value in sorted(set(pictures))
                           for n, band in enumerate(bands(value)))
        rows = await self._fetch_rows(f"SELECT {_FLAG_COLUMNS} FROM flagged_inputs WHERE kind = 'picture' AND ({near})",
                                      arg.values)
        return [_flag_of(row) for row in rows]

    async def record_content_refusal(self, refusal: RecordedRefusal, *, now: datetime, rule: StrikeRule) -> Strikes:
        at = self._time(now, "record_content_refusal(now)")
        async with self._write() as conn:
            await self._lock_guild_in(conn, refusal.guild_id)
            arg = self._params()
            new = await self._conn_rows(
                conn,
                "INSERT INTO content_strikes (job_id, guild_id, user_id, part, at) "
                f"VALUES ({arg(refusal.job_id)}, {arg(refusal.guild_id)}, {arg(refusal.user_id)}, "
                f"{arg(refusal.part.value)}, {arg(at)}) ON CONFLICT (job_id) DO NOTHING RETURNING job_id",
                arg.values)
            if not new:  # recorded before (a retried write): the same answer, nothing paused again
                return Strikes(await self._strikes_in(conn, refusal, now, rule))
            if refusal.fingerprints:
                await self._conn_executemany(
                    conn,
                    "INSERT INTO flagged_inputs (kind, prompt, prompt_digest, pictures, band0, band1, band2, band3, "
                    f"band4, job_id, at) VALUES ({self._marks(11)})",
                    [_flag_row(flag, refusal.job_id, at) for flag in refusal.fingerprints])
            counted = await self._strikes_in(conn, refusal, now, rule)
            if rule.limit <= 0 or len(counted) < rule.limit:
                return Strikes(counted)
            arg = self._params()
            strikes = Strikes(counted, paused_now=True)
            paused = await self._conn_rows(
                conn,
                "INSERT INTO blocked_members (guild_id, user_id, reason, strikes) "
                f"VALUES ({arg(refusal.guild_id)}, {arg(refusal.user_id)}, {arg(pause_reason(strikes, rule))}, "
                f"{arg(' '.join(counted))}) ON CONFLICT (guild_id, user_id) DO NOTHING RETURNING user_id",
                arg.values)
            if not paused:  # already blocked (by a moderator, or paused before): left as it is
                return Strikes(counted)
            arg = self._params()
            await self._conn_execute(
                conn,
                "INSERT INTO audit_log (guild_id, actor_id, action, before, after, at) "
                f"VALUES ({arg(refusal.guild_id)}, 0, 'strikes.pause', "
                f"{arg(json.dumps({'user_id': refusal.user_id, 'blocked': False}))}, "
                f"{arg(json.dumps({'user_id': refusal.user_id, 'blocked': True, 'strikes': list(counted)}))}, "
                f"{arg(at)})",
                arg.values)
            return strikes

    async def strike_pause(self, guild_id: int, user_id: int) -> tuple[str, ...] | None:
        arg = self._params()
        rows = await self._fetch_rows(
            f"SELECT strikes FROM blocked_members WHERE guild_id = {arg(guild_id)} AND user_id = {arg(user_id)} "
            "AND strikes IS NOT NULL", arg.values)
        return tuple(str(rows[0][0]).split()) if rows else None

    async def _strikes_in(self, conn: Any, refusal: RecordedRefusal, now: datetime,
                          rule: StrikeRule) -> tuple[str, ...]:
        """The member's strikes in this server that count now: within the window, not lifted; oldest first."""
        arg = self._params()
        rows = await self._conn_rows(
            conn,
            f"SELECT job_id FROM content_strikes WHERE guild_id = {arg(refusal.guild_id)} "
            f"AND user_id = {arg(refusal.user_id)} AND lifted_at IS NULL "
            f"AND at > {arg(self._time(now - rule.window, 'strike window'))} ORDER BY at, job_id",
            arg.values)
        return tuple(str(row[0]) for row in rows)


def _flag_row(flag: Fingerprint, job_id: str, at: object) -> Sequence[object]:
    picture_bands: list[int | None] = (list(bands(flag.pictures[0])) if flag.kind is Kind.PICTURE
                                       else [None] * len(BAND_BITS))
    digest = _digest(flag.prompt) if flag.prompt is not None else None
    return (flag.kind.value, flag.prompt, digest, " ".join(as_hex(p) for p in flag.pictures), *picture_bands,
            job_id, at)


def _flag_of(row: Sequence[Any]) -> Fingerprint:
    pictures = tuple(from_hex(p) for p in str(row[2] or "").split())
    return Fingerprint(Kind(str(row[0])), row[1], pictures)


__all__ = ["BAND_BITS", "SqlStrikeStore", "bands"]

"""What the SQLite and PostgreSQL stores share: the job updates, written once with each dialect's pieces.

The two differ in placeholders (`?` against `$1`), in how a value is kept (integer milliseconds against
timestamptz), in their drivers' calls and in the quota ledger's SQL; what a transition does (which fields,
the fence, releasing the lease, the ledger moving in the same transaction) is the same, and lives here.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from bot.db.dialect import SqlDialect
from bot.db.rows import EPOCH, JOB_COLUMNS, MS, to_ms
from bot.jobs.models import Job
from bot.jobs.pause import PauseKind, ProviderPause
from bot.jobs.states import ACTIVE_STATES, TERMINAL_STATES, JobState, check_transition
from bot.jobs.store import TRANSITION_FIELDS, StoreError
from bot.quotas.models import MemberPace, QueueFull, TooSoon

log = logging.getLogger("bot.jobs.store")

RETURNING = f"RETURNING {', '.join(JOB_COLUMNS)}"
SELECT_JOB = f"SELECT {', '.join(JOB_COLUMNS)} FROM jobs"
# A fenced write ends its holder's lease with it.
RELEASE = ("lease_owner = NULL", "lease_until = NULL")


class SqlJobStore(SqlDialect):
    """The job updates and reads of a SQL store."""

    async def _pace_in(self, conn: Any, job: Job, pace: MemberPace | None) -> None:
        """Inside the job-creating transaction, under the server's lock (the quota's): the member's cooldown
        and queue limit, exact however many of their requests arrive at once."""
        if pace is None or (not pace.cooldown_seconds and pace.max_queued is None):
            return
        await self._lock_guild_in(conn, job.guild_id)
        arg = self._params()
        member = f"guild_id = {arg(job.guild_id)} AND user_id = {arg(job.user_id)}"
        if pace.cooldown_seconds:
            rows = await self._conn_rows(conn, f"SELECT created_at FROM jobs WHERE {member} ORDER BY seq DESC LIMIT 1",
                                         arg.values)
            if rows:
                since = (to_ms(job.created_at, "created_at") - self._ms_from_db(rows[0][0])) / 1000
                if since < pace.cooldown_seconds:
                    raise TooSoon(pace.cooldown_seconds, pace.cooldown_seconds - since)
        if pace.max_queued is not None:
            rows = await self._conn_rows(conn, f"SELECT count(*) FROM jobs WHERE {member} AND state = 'accepted'",
                                         arg.values)
            queued = int(rows[0][0])
            if queued >= pace.max_queued:
                raise QueueFull(queued, pace.max_queued)

    async def _fetch_row(self, conn: Any, sql: str, values: list[object]) -> Job | None:
        raise NotImplementedError  # run `sql` on `conn`; the first row as a Job

    def _encode_field(self, job_id: str, column: str, value: object) -> object:
        raise NotImplementedError  # a checked value in the dialect's form

    async def _settle_in(self, conn: Any, job_id: str, to: JobState, now: datetime) -> None:
        raise NotImplementedError  # the quota ledger's step for this transition (SqlQuotaStore)

    def _decode_row(self, row: Any) -> Job:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def transition(
        self,
        job_id: str,
        *,
        from_states: Collection[JobState],
        to: JobState,
        fence: int | None = None,
        **fields: object,
    ) -> Job | None:
        to = JobState(to)
        from_states = frozenset(JobState(s) for s in from_states)
        check_transition(from_states, to)
        unknown = sorted(set(fields) - TRANSITION_FIELDS)
        if unknown:
            raise ValueError(f"transition of job {job_id}: cannot set {', '.join(unknown)}")
        now = self._clock()
        values = dict(fields)
        if to is JobState.SUBMITTED:
            values.setdefault("submitted_at", now)
        if to is JobState.SUCCEEDED:
            values.setdefault("succeeded_at", now)
        if to in TERMINAL_STATES:
            values.setdefault("finished_at", now)
        arg = self._params()
        assignments = [f"state = {arg(to.value)}"]
        for column in sorted(values):
            assignments.append(f"{column} = {arg(self._encode_field(job_id, column, values[column]))}")
        if to is JobState.SUBMITTING and "attempt" not in values:
            assignments.append("attempt = attempt + 1")  # a new fencing number for every claim
        where = f"id = {arg(job_id)} AND state {arg.one_of(sorted(s.value for s in from_states))}"
        if fence is not None:
            assignments += RELEASE
            where += f" AND attempt = {arg(fence)}"
        sql = f"UPDATE jobs SET {', '.join(assignments)} WHERE {where} {RETURNING}"
        async with self._write() as conn:
            moved = await self._fetch_row(conn, sql, arg.values)
            if moved is not None:  # the ledger moves in the transition's own transaction
                await self._settle_in(conn, job_id, to, now)
            return moved

    async def update_progress(
        self,
        job_id: str,
        *,
        provider_status: str | None,
        progress_percent: int | None,
        eta_seconds: int | None,
        next_poll_at: datetime | None,
        poll_count: int,
        fence: int | None = None,
        reason: str | None = None,
    ) -> Job | None:
        values: dict[str, object] = {
            "provider_status": provider_status,
            "progress_percent": progress_percent,
            "eta_seconds": eta_seconds,
            "next_poll_at": next_poll_at,
            "poll_count": poll_count,
        }
        if reason is not None:
            values["reason"] = reason
        return await self._update_where(job_id, values, only_state=JobState.SUBMITTED, fence=fence)

    async def record_delivery_failure(self, job_id: str, *, fence: int, retry_at: datetime) -> Job | None:
        arg = self._params()
        sql = (f"UPDATE jobs SET delivery_attempts = delivery_attempts + 1, "
               f"lease_until = {arg(self._time(retry_at, 'record_delivery_failure(retry_at)'))} "
               f"WHERE id = {arg(job_id)} AND state = {arg(JobState.SUCCEEDED.value)} AND attempt = {arg(fence)} "
               f"{RETURNING}")
        async with self._write() as conn:
            return await self._fetch_row(conn, sql, arg.values)

    async def set_message_ids(
        self,
        job_id: str,
        *,
        card_message_id: int | None = None,
        status_message_id: int | None = None,
        thread_id: int | None = None,
    ) -> Job | None:
        given = {
            "card_message_id": card_message_id,
            "status_message_id": status_message_id,
            "thread_id": thread_id,
        }
        values = {k: v for k, v in given.items() if v is not None}
        if not values:
            return await self.get_job(job_id)
        return await self._update_where(job_id, values, only_state=None)

    async def renew_leases(self, owner: str, job_ids: Collection[str], *, until: datetime) -> set[str]:
        if not job_ids:
            return set()
        arg = self._params()
        sql = (f"UPDATE jobs SET lease_until = {arg(self._time(until, 'renew(until)'))} WHERE lease_owner = "
               f"{arg(owner)} AND id {arg.one_of(sorted(job_ids))} RETURNING id")
        async with self._write() as conn:
            return {str(row[0]) for row in await self._conn_rows(conn, sql, arg.values)}

    async def release_leases(self, *, host: str, except_owner: str) -> list[str]:
        prefix = f"{host}:"
        arg = self._params()
        sql = (f"UPDATE jobs SET {', '.join(RELEASE)} WHERE lease_owner IS NOT NULL "
               f"AND substr(lease_owner, 1, {arg(len(prefix))}) = {arg(prefix)} "
               f"AND lease_owner <> {arg(except_owner)} RETURNING id")
        async with self._write() as conn:
            return sorted(str(row[0]) for row in await self._conn_rows(conn, sql, arg.values))

    async def _update_where(
        self, job_id: str, values: Mapping[str, object], *, only_state: JobState | None, fence: int | None = None
    ) -> Job | None:
        arg = self._params()
        assignments = [f"{column} = {arg(self._encode_field(job_id, column, v))}" for column, v in values.items()]
        where = f"id = {arg(job_id)}"
        if only_state is not None:
            where += f" AND state = {arg(only_state.value)}"
        if fence is not None:
            assignments += RELEASE
            where += f" AND attempt = {arg(fence)}"
        sql = f"UPDATE jobs SET {', '.join(assignments)} WHERE {where} {RETURNING}"
        async with self._write() as conn:
            return await self._fetch_row(conn, sql, arg.values)

    # -- reads -----------------------------------------------------------------------------------

    async def _fetch_jobs(self, sql: str, values: Sequence[object], *, skip_unreadable: bool = True) -> list[Job]:
        jobs: list[Job] = []
        for row in await self._fetch_rows(sql, values):
            try:
                jobs.append(self._decode_row(row))
            except StoreError as exc:
                if not skip_unreadable:
                    raise
                # One damaged row must not stop the poller or /jobs for everybody else.
                log.error("skipping an unreadable job in %r: %s", self, exc)
        return jobs

    async def get_job(self, job_id: str) -> Job | None:
        arg = self._params()
        jobs = await self._fetch_jobs(f"{SELECT_JOB} WHERE id = {arg(job_id)}", arg.values, skip_unreadable=False)
        return jobs[0] if jobs else None

    async def count_active(self, guild_id: int, user_id: int) -> int:
        arg = self._params()
        rows = await self._fetch_rows(
            f"SELECT count(*) FROM jobs WHERE guild_id = {arg(guild_id)} AND user_id = {arg(user_id)} "
            f"AND state {arg.one_of(sorted(s.value for s in ACTIVE_STATES))}",
            arg.values,
        )
        return int(rows[0][0])

    async def count_by_state(self, states: Collection[JobState]) -> dict[JobState, int]:
        wanted = sorted(JobState(s).value for s in states)
        counts = dict.fromkeys((JobState(s) for s in wanted), 0)
        if wanted:
            arg = self._params()
            rows = await self._fetch_rows(
                f"SELECT state, count(*) FROM jobs WHERE state {arg.one_of(wanted)} GROUP BY state",
                arg.values,
            )
            counts.update({JobState(str(r[0])): int(r[1]) for r in rows})
        return counts

    async def queued_for(self, guild_id: int, user_id: int) -> list[Job]:
        return await self._member_jobs(guild_id, user_id, "AND state = 'accepted' ORDER BY seq")

    async def next_queued(self, guild_id: int, user_id: int) -> Job | None:
        jobs = await self._member_jobs(guild_id, user_id, "AND state = 'accepted' ORDER BY seq LIMIT 1")
        return jobs[0] if jobs else None

    async def recent_jobs(self, guild_id: int, user_id: int, limit: int = 10) -> list[Job]:
        return await self._member_jobs(guild_id, user_id, f"ORDER BY seq DESC LIMIT {int(limit)}")

    async def _member_jobs(self, guild_id: int, user_id: int, rest: str) -> list[Job]:
        arg = self._params()
        sql = f"{SELECT_JOB} WHERE guild_id = {arg(guild_id)} AND user_id = {arg(user_id)} {rest}"
        return await self._fetch_jobs(sql, arg.values)

    async def jobs_in_states(self, states: Collection[JobState], limit: int | None = None) -> list[Job]:
        if not states:
            return []
        arg = self._params()
        sql = f"{SELECT_JOB} WHERE state {arg.one_of(sorted(JobState(s).value for s in states))} ORDER BY seq"
        if limit is not None:
            sql += f" LIMIT {arg(limit)}"
        return await self._fetch_jobs(sql, arg.values)

    async def guild_jobs(self, guild_id: int, states: Collection[JobState]) -> list[Job]:
        if not states:
            return []
        arg = self._params()
        sql = (f"{SELECT_JOB} WHERE guild_id = {arg(guild_id)} "
               f"AND state {arg.one_of(sorted(JobState(s).value for s in states))} ORDER BY seq")
        return await self._fetch_jobs(sql, arg.values)

    # -- the provider pause (bot/jobs/pause.py) ----------------------------------------------------------
    # At most one episode in force (ended_at NULL), kept so by a unique index: starting one is an INSERT that
    # a second process, at the same moment or later, finds done; claiming a probe and ending the pause are
    # conditional UPDATEs that one caller wins.

    async def start_provider_pause(self, kind: PauseKind, *, now: datetime, next_probe_at: datetime) -> bool:
        kind = PauseKind(kind)
        arg = self._params()
        start = (f"INSERT INTO provider_pauses (kind, started_at, next_probe_at) VALUES ({arg(kind.value)}, "
                 f"{arg(self._time(now, 'pause(now)'))}, {arg(self._time(next_probe_at, 'pause(next_probe_at)'))}) "
                 "ON CONFLICT DO NOTHING RETURNING episode")
        again = self._params()
        update = (f"UPDATE provider_pauses SET kind = {again(kind.value)}, "
                  f"next_probe_at = {again(self._time(next_probe_at, 'pause(next_probe_at)'))} WHERE ended_at IS NULL")
        async with self._write() as conn:
            if await self._conn_rows(conn, start, arg.values):
                return True
            await self._conn_execute(conn, update, again.values)
            return False

    async def provider_pause(self) -> ProviderPause | None:
        rows = await self._fetch_rows(f"{_SELECT_PAUSE} WHERE ended_at IS NULL", ())
        return self._pause_from_row(rows[0]) if rows else None

    async def claim_provider_probe(self, *, owner: str, due_by: datetime, next_probe_at: datetime) -> bool:
        arg = self._params()
        sql = (f"UPDATE provider_pauses SET next_probe_at = {arg(self._time(next_probe_at, 'probe(next_probe_at)'))}, "
               f"probe_owner = {arg(owner)}, probes = probes + 1 WHERE ended_at IS NULL "
               f"AND next_probe_at <= {arg(self._time(due_by, 'probe(due_by)'))} RETURNING episode")
        async with self._write() as conn:
            return bool(await self._conn_rows(conn, sql, arg.values))

    async def end_provider_pause(self, *, now: datetime) -> ProviderPause | None:
        arg = self._params()
        sql = (f"UPDATE provider_pauses SET ended_at = {arg(self._time(now, 'end_pause(now)'))} "
               f"WHERE ended_at IS NULL RETURNING {_PAUSE_COLUMNS}")
        async with self._write() as conn:
            rows = await self._conn_rows(conn, sql, arg.values)
        return self._pause_from_row(rows[0]) if rows else None

    async def note_paused_guilds(self) -> list[int]:
        sql = ("INSERT INTO provider_pause_guilds (episode, guild_id) SELECT DISTINCT pause.episode, jobs.guild_id "
               "FROM provider_pauses AS pause, jobs WHERE pause.ended_at IS NULL AND jobs.state = 'accepted' "
               "ON CONFLICT DO NOTHING RETURNING guild_id")
        async with self._write() as conn:
            return sorted(int(row[0]) for row in await self._conn_rows(conn, sql, ()))

    async def paused_guilds(self, episode: int) -> list[int]:
        arg = self._params()
        rows = await self._fetch_rows(
            f"SELECT guild_id FROM provider_pause_guilds WHERE episode = {arg(episode)} ORDER BY guild_id", arg.values)
        return [int(row[0]) for row in rows]

    def _pause_from_row(self, row: Any) -> ProviderPause:
        try:
            return ProviderPause(
                episode=int(row[0]), kind=PauseKind(str(row[1])),
                started_at=EPOCH + self._ms_from_db(row[2]) * MS, next_probe_at=EPOCH + self._ms_from_db(row[3]) * MS,
                probes=int(row[4]),
            )
        except (TypeError, ValueError) as exc:
            raise StoreError(f"provider pause {row[0]}: unreadable ({exc})") from None


_PAUSE_COLUMNS = "episode, kind, started_at, next_probe_at, probes"
_SELECT_PAUSE = f"SELECT {_PAUSE_COLUMNS} FROM provider_pauses"

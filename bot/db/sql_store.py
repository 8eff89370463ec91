"""What the SQLite and PostgreSQL stores share: the job rows, written and read once with each dialect's pieces.

The two differ in placeholders (`?` against `$1`), in how a value is kept (integer milliseconds against
timestamptz), in their drivers' calls and in how concurrent writers are kept apart (dialect.py); what creating
a job does (its checks, its inputs, the member's pace and the quota's reservation in one transaction) and what
a transition does (which fields, the fence, releasing the lease, the ledger moving in the same transaction) is
the same, and lives here. Leases build on this in sql_leases.py; the provider pause is in sql_pause.py and
migrations in sql_migrate.py.
"""

from __future__ import annotations

import logging
from abc import abstractmethod
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from bot.db.dialect import Params, SqlDialect
from bot.db.rows import JOB_COLUMNS, check_field, check_job, decode_job, to_ms
from bot.jobs.models import Job, JobInput, new_job_id
from bot.jobs.states import ACTIVE_STATES, IN_FLIGHT_STATES, TERMINAL_STATES, JobState, check_transition
from bot.jobs.store import TRANSITION_FIELDS, StoreError
from bot.quotas.models import Charge, MemberPace, QueueFull, QuotaCheck, TooSoon

log = logging.getLogger("bot.jobs.store")

RETURNING = f"RETURNING {', '.join(JOB_COLUMNS)}"
SELECT_JOB = f"SELECT {', '.join(JOB_COLUMNS)} FROM jobs"
# A fenced write ends its holder's lease with it.
RELEASE = ("lease_owner = NULL", "lease_until = NULL")
# A job whose video is held for a moderator (bot/jobs/review.py): no process leases it and it holds none of its
# member's slots until a moderator decides (they may take days).
NOT_HELD = "(video_review IS NULL OR video_review <> 'held')"
_ID_ATTEMPTS = 8  # fresh ids to draw when one is taken; 40-bit ids make a second clash near impossible
_INPUT_COLUMNS = ("job_id", "position", "filename", "mime_type", "data")


class SqlJobStore(SqlDialect):
    """The job updates and reads of a SQL store."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def _reserve_in(self, conn: Any, job_id: str, charge: Charge, checks: Sequence[QuotaCheck],
                          now: datetime) -> None:
        """The quota ledger's reservation for a new job (SqlQuotaStore)."""

    @abstractmethod
    async def _settle_in(self, conn: Any, job_id: str, to: JobState, now: datetime) -> None:
        """The quota ledger's step for this transition (SqlQuotaStore)."""

    def now(self) -> datetime:
        """The store's clock: for SQLite this host's (the file lives on one host, every process using it reads
        that host's clock); for PostgreSQL the server's (bot/db/clock.py) unless a test gave its own."""
        return self._clock()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- rows --------------------------------------------------------------------------------------

    def _db_value(self, job_id: str, column: str, value: object) -> object:
        """A checked value (rows.check_field / check_job) in the dialect's form."""
        if isinstance(value, datetime):
            return self._time(value, f"job {job_id}, field {column!r}")  # whole milliseconds on every backend
        if isinstance(value, bool):
            return self._flag(value)
        if not self.NUL_IN_TEXT and isinstance(value, str) and (
            "\x00" in value or (column == "params" and "\\u0000" in value)
        ):
            # PostgreSQL text cannot hold NUL (nor jsonb its escape): refused here, naming the field, not in the driver.
            raise ValueError(f"job {job_id}, field {column!r}: contains a NUL character")
        return value

    def _encode_field(self, job_id: str, column: str, value: object) -> object:
        return self._db_value(job_id, column, check_field(job_id, column, value))

    def _decode_row(self, row: Any) -> Job:
        return decode_job(row, self._time_from_db)

    async def _fetch_row(self, conn: Any, sql: str, values: list[object]) -> Job | None:
        """Run `sql` inside `conn`'s transaction; its first row as a Job."""
        rows = await self._conn_rows(conn, sql, values)
        return self._decode_row(rows[0]) if rows else None

    # -- mutations ---------------------------------------------------------------------------------

    async def create_job(
        self, job: Job, inputs: Sequence[JobInput], *, charge: Charge | None = None,
        checks: Sequence[QuotaCheck] = (), pace: MemberPace | None = None,
    ) -> Job:
        if job.state is not JobState.ACCEPTED:
            raise ValueError(f"job {job.id}: a new job must start in 'accepted', not {job.state.value!r}")
        positions = [i.position for i in inputs]
        if len(set(positions)) != len(positions):
            raise ValueError(f"job {job.id}: two inputs share a position ({sorted(positions)})")
        for item in inputs:
            if item.position < 0 or not isinstance(item.data, bytes):
                raise ValueError(f"job {job.id}, input {item.filename!r}: bad position or data")
            for column, text in (("filename", item.filename), ("mime_type", item.mime_type)):
                self._db_value(job.id, f"input {column}", text)
        row = {column: self._db_value(job.id, column, value) for column, value in check_job(job).items()}
        columns = ", ".join(JOB_COLUMNS)
        # ON CONFLICT ... DO NOTHING: a taken id returns no row instead of failing the statement (which would
        # abort a PostgreSQL transaction). RETURNING: hand back exactly what was stored (times cut to whole
        # milliseconds, a fresh id).
        insert = (f"INSERT INTO jobs ({columns}) VALUES ({self._marks(len(JOB_COLUMNS))}) "
                  f"ON CONFLICT (id) DO NOTHING {RETURNING}")
        add_input = (f"INSERT INTO job_inputs ({', '.join(_INPUT_COLUMNS)}) "
                     f"VALUES ({self._marks(len(_INPUT_COLUMNS))})")
        async with self._write() as conn:
            await self._pace_in(conn, job, pace)
            for _ in range(_ID_ATTEMPTS):
                stored = await self._conn_rows(conn, insert, [row[c] for c in JOB_COLUMNS])
                if stored:
                    break
                row["id"] = new_job_id()
            else:  # pragma: no cover - would need eight 40-bit collisions in a row
                raise StoreError("could not draw an unused job id")
            if inputs:
                await self._conn_executemany(
                    conn, add_input, [(row["id"], i.position, i.filename, i.mime_type, i.data) for i in inputs]
                )
            if charge is not None:  # same transaction: no job without its reservation, nor the reverse
                await self._reserve_in(conn, str(row["id"]), charge, checks, self._clock())
        return self._decode_row(stored[0])

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

    async def mark_sent(self, job_id: str, *, fence: int) -> Job | None:
        arg = self._params()
        sql = (f"UPDATE jobs SET sent_at = {arg(self._time(self._clock(), 'mark_sent'))} "
               f"WHERE id = {arg(job_id)} AND state = {arg(JobState.SUBMITTING.value)} AND attempt = {arg(fence)} "
               f"{RETURNING}")
        async with self._write() as conn:
            return await self._fetch_row(conn, sql, arg.values)

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
        rows = await self._fetch_rows(count_active_sql(arg, guild_id, user_id), arg.values)
        return int(rows[0][0])

    async def count_by_state(self, states: Collection[JobState]) -> dict[JobState, int]:
        wanted = sorted(JobState(s).value for s in states)
        counts = dict.fromkeys((JobState(s) for s in wanted), 0)
        if wanted:
            arg = self._params()
            rows = await self._fetch_rows(
                f"SELECT state, count(*) FROM jobs WHERE state {arg.one_of(wanted)} AND {LOOP_JOBS} GROUP BY state",
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
        sql = (f"{SELECT_JOB} WHERE state {arg.one_of(sorted(JobState(s).value for s in states))} AND {LOOP_JOBS} "
               "ORDER BY seq")
        if limit is not None:
            sql += f" LIMIT {arg(limit)}"
        return await self._fetch_jobs(sql, arg.values)

    async def fair_place(self, job_id: str) -> int | None:
        # Ids only (the whole queue's, at most a few thousand short strings): cheaper than a window over the order.
        order = [str(row[0]) for row in await self._fetch_rows(fair_queue_sql("jobs.id"), [])]
        return order.index(job_id) + 1 if job_id in order else None

    async def queued_fairly(self, limit: int) -> list[Job]:
        arg = self._params()
        return await self._fetch_jobs(f"{FAIR_QUEUE} LIMIT {arg(limit)}", arg.values)

    async def operator_job(self, task_id: str) -> Job | None:
        arg = self._params()
        jobs = await self._fetch_jobs(f"{SELECT_JOB} WHERE task_id = {arg(task_id)} AND source = 'operator' "
                                      "ORDER BY seq DESC LIMIT 1", arg.values)
        return jobs[0] if jobs else None

    async def guild_jobs(self, guild_id: int, states: Collection[JobState]) -> list[Job]:
        if not states:
            return []
        arg = self._params()
        sql = (f"{SELECT_JOB} WHERE guild_id = {arg(guild_id)} "
               f"AND state {arg.one_of(sorted(JobState(s).value for s in states))} ORDER BY seq")
        return await self._fetch_jobs(sql, arg.values)

    # -- inputs ----------------------------------------------------------------------------------

    async def get_inputs(self, job_id: str) -> list[JobInput]:
        arg = self._params()
        sql = (f"SELECT position, filename, mime_type, data FROM job_inputs WHERE job_id = {arg(job_id)} "
               "ORDER BY position")
        rows = await self._fetch_rows(sql, arg.values)
        return [JobInput(int(r[0]), str(r[1]), str(r[2]), bytes(r[3])) for r in rows]

    async def delete_inputs(self, job_id: str) -> int:
        arg = self._params()
        async with self._write() as conn:
            return await self._conn_count(conn, f"DELETE FROM job_inputs WHERE job_id = {arg(job_id)}", arg.values)

    async def delete_inputs_finished_before(self, cutoff: datetime) -> int:
        arg = self._params()
        delete = ("DELETE FROM job_inputs WHERE job_id IN (SELECT id FROM jobs WHERE finished_at IS NOT NULL "
                  f"AND finished_at < {arg(self._time(cutoff, 'cutoff'))})")
        async with self._write() as conn:
            return await self._conn_count(conn, delete, arg.values)


# The job loop's jobs: the command line submits and follows its own (JobSource.OPERATOR), in the ledger beside them.
LOOP_JOBS = "source = 'discord'"
_ACTIVE = ", ".join(f"'{s.value}'" for s in sorted(ACTIVE_STATES, key=lambda s: s.value))
# The submit queue, fair between servers and between members of a server (docs/DESIGN.md "Fair turns").
# Each queued job gets a turn number: within its member, its place among their queued jobs plus what the member
# already has in flight; within its server, jobs take turns member by member in that order; across servers, that
# place plus what the server already has in flight. Lowest turn first, oldest first among equals. So a server's
# burst of 200 jobs goes out one job per turn beside everyone else's instead of ahead of them, and a server or
# member with jobs already running waits behind those with none. Window functions: SQLite 3.25+, PostgreSQL.
def fair_queue_sql(columns: str) -> str:
    """The fair order of the queued jobs, selecting `columns` of `jobs`."""
    return f"""WITH queued AS (
    SELECT seq, guild_id, user_id, ROW_NUMBER() OVER (PARTITION BY guild_id, user_id ORDER BY seq) AS turn
    FROM jobs WHERE state = 'accepted' AND {LOOP_JOBS}),
running AS (
    SELECT guild_id, user_id, count(*) AS n FROM jobs
    WHERE state IN ({_ACTIVE}) AND {NOT_HELD} AND guild_id IN (SELECT guild_id FROM queued)
    GROUP BY guild_id, user_id),
member_turns AS (
    SELECT q.seq, q.guild_id, q.turn + COALESCE(r.n, 0) AS turn
    FROM queued q LEFT JOIN running r ON r.guild_id = q.guild_id AND r.user_id = q.user_id),
server_turns AS (
    SELECT seq, guild_id, ROW_NUMBER() OVER (PARTITION BY guild_id ORDER BY turn, seq) AS turn FROM member_turns),
server_running AS (SELECT guild_id, SUM(n) AS n FROM running GROUP BY guild_id)
SELECT {columns} FROM jobs
JOIN server_turns t ON jobs.seq = t.seq LEFT JOIN server_running r ON r.guild_id = t.guild_id
ORDER BY t.turn + COALESCE(r.n, 0), jobs.seq"""


FAIR_QUEUE = fair_queue_sql(", ".join(f"jobs.{c}" for c in JOB_COLUMNS))


# Tasks at the provider, or about to be (PROVIDER_MAX_IN_FLIGHT counts these, across every process).
# The command line's own tasks are left out: one never followed stays submitted here, and would hold a slot for good.
IN_FLIGHT_SQL = ("SELECT count(*) FROM jobs WHERE state IN "
                 f"({', '.join(repr(s.value) for s in sorted(IN_FLIGHT_STATES, key=lambda s: s.value))}) "
                 f"AND {LOOP_JOBS}")


def count_active_sql(arg: Params, guild_id: int, user_id: int) -> str:
    """How many jobs of one member hold a slot (ACTIVE_STATES)."""
    return (f"SELECT count(*) FROM jobs WHERE guild_id = {arg(guild_id)} AND user_id = {arg(user_id)} "
            f"AND state {arg.one_of(sorted(s.value for s in ACTIVE_STATES))} AND {NOT_HELD}")

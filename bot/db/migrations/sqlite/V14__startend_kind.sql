-- A third kind of job, "startend": a video from a start and an end picture (issue 28, item 1). SQLite cannot
-- change a CHECK constraint in place, so the jobs table is rebuilt with the wider one: every column of V1-V10
-- (the same types, defaults and constraints, in the same order), every row with its `seq`, the AUTOINCREMENT
-- counter, and every index. A later migration numbered below 14 that adds a column to jobs must add it here too
-- (tests/store/test_startend_migration.py fails until it does). This runs inside the migration's transaction with foreign keys on: dropping the old table deletes its
-- rows first, which cascades to job_inputs, so the inputs (only those of unfinished jobs are kept) are set
-- aside in a temporary table and put back.
CREATE TEMP TABLE v14_job_inputs AS SELECT job_id, position, filename, mime_type, data FROM job_inputs;
CREATE TEMP TABLE v14_sequence AS SELECT seq FROM sqlite_sequence WHERE name = 'jobs';
CREATE TABLE jobs_v14 (
    seq                  INTEGER PRIMARY KEY AUTOINCREMENT,
    id                   TEXT    NOT NULL UNIQUE,
    guild_id             INTEGER NOT NULL,
    channel_id           INTEGER NOT NULL,
    thread_id            INTEGER,
    user_id              INTEGER NOT NULL,
    locale               TEXT    NOT NULL,
    kind                 TEXT    NOT NULL CHECK (kind IN ('img2video', 'multiframe', 'startend')),
    params               TEXT    NOT NULL,  -- JSON object
    resolution           TEXT    NOT NULL,
    duration_seconds     INTEGER NOT NULL,
    private              INTEGER NOT NULL CHECK (private IN (0, 1)),
    state                TEXT    NOT NULL CHECK (state IN ('accepted', 'submitting', 'submitted',
                             'succeeded', 'delivered', 'rejected', 'failed', 'submit_unknown',
                             'expired', 'cancelled')),
    task_id              TEXT,
    provider_status      TEXT,
    progress_percent     INTEGER,
    eta_seconds          INTEGER,
    reason               TEXT,
    attempt              INTEGER NOT NULL DEFAULT 0,
    poll_count           INTEGER NOT NULL DEFAULT 0,
    next_poll_at         INTEGER,
    created_at           INTEGER NOT NULL,
    submitted_at         INTEGER,
    finished_at          INTEGER,
    video_url            TEXT,
    video_expires_at     INTEGER,
    card_message_id      INTEGER,
    status_message_id    INTEGER,
    delivered_message_id INTEGER,
    parent_job_id        TEXT,
    lease_owner          TEXT,
    lease_until          INTEGER,
    succeeded_at         INTEGER,
    delivery_attempts    INTEGER NOT NULL DEFAULT 0,
    upload_limit         INTEGER,
    sent_at              INTEGER,
    video_review         TEXT CHECK (video_review IN ('passed', 'spoiler', 'hold', 'held',
    'approved', 'removed')),
    reviewed_by          INTEGER
);
INSERT INTO jobs_v14 (seq, id, guild_id, channel_id, thread_id, user_id, locale, kind, params, resolution,
                      duration_seconds, private, state, task_id, provider_status, progress_percent, eta_seconds,
                      reason, attempt, poll_count, next_poll_at, created_at, submitted_at, finished_at, video_url,
                      video_expires_at, card_message_id, status_message_id, delivered_message_id, parent_job_id,
                      lease_owner, lease_until, succeeded_at, delivery_attempts, upload_limit, sent_at,
                      video_review, reviewed_by)
SELECT seq, id, guild_id, channel_id, thread_id, user_id, locale, kind, params, resolution,
       duration_seconds, private, state, task_id, provider_status, progress_percent, eta_seconds,
       reason, attempt, poll_count, next_poll_at, created_at, submitted_at, finished_at, video_url,
       video_expires_at, card_message_id, status_message_id, delivered_message_id, parent_job_id,
       lease_owner, lease_until, succeeded_at, delivery_attempts, upload_limit, sent_at,
       video_review, reviewed_by
FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_v14 RENAME TO jobs;
-- The counter goes on from where it was (a job deleted at the end must not see its seq handed out again).
UPDATE sqlite_sequence SET seq = MAX(seq, COALESCE((SELECT seq FROM temp.v14_sequence), 0)) WHERE name = 'jobs';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'jobs', seq FROM temp.v14_sequence WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'jobs');
INSERT INTO job_inputs (job_id, position, filename, mime_type, data)
    SELECT job_id, position, filename, mime_type, data FROM temp.v14_job_inputs;
DROP TABLE temp.v14_job_inputs;
DROP TABLE temp.v14_sequence;
-- V1's indexes and V3's, as they were.
CREATE INDEX jobs_member_state ON jobs (guild_id, user_id, state, seq);
CREATE INDEX jobs_guild_state ON jobs (guild_id, state, seq);
CREATE INDEX jobs_due_polls ON jobs (next_poll_at, seq) WHERE state = 'submitted';
CREATE INDEX jobs_resume ON jobs (state, seq) WHERE state IN ('submitting', 'submitted', 'succeeded');
CREATE INDEX jobs_leases ON jobs (state, lease_until) WHERE state IN ('submitting', 'succeeded');

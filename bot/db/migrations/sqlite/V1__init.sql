-- Jobs and their input images. Times are integer milliseconds since the Unix epoch, UTC.
-- `seq` gives a total creation order (queue positions, "oldest first") even within one millisecond.
CREATE TABLE jobs (
    seq                  INTEGER PRIMARY KEY AUTOINCREMENT,
    id                   TEXT    NOT NULL UNIQUE,
    guild_id             INTEGER NOT NULL,
    channel_id           INTEGER NOT NULL,
    thread_id            INTEGER,
    user_id              INTEGER NOT NULL,
    locale               TEXT    NOT NULL,
    kind                 TEXT    NOT NULL CHECK (kind IN ('img2video', 'multiframe')),
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
    parent_job_id        TEXT
);

CREATE INDEX jobs_member_state ON jobs (guild_id, user_id, state, seq);
CREATE INDEX jobs_guild_state ON jobs (guild_id, state, seq);
-- The poller's query; partial so delivered history does not bloat it.
CREATE INDEX jobs_due_polls ON jobs (next_poll_at, seq) WHERE state = 'submitted';
CREATE INDEX jobs_resume ON jobs (state, seq) WHERE state IN ('submitting', 'submitted', 'succeeded');

CREATE TABLE job_inputs (
    job_id    TEXT    NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    position  INTEGER NOT NULL CHECK (position >= 0),
    filename  TEXT    NOT NULL,
    mime_type TEXT    NOT NULL,
    data      BLOB    NOT NULL,
    PRIMARY KEY (job_id, position)
);

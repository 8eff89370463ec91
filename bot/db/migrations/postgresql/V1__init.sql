-- Jobs and their input images (PostgreSQL). The same columns and meanings as the SQLite schema, in
-- native types: times are timestamptz (the store writes whole milliseconds, UTC), Discord ids bigint.
-- `seq` gives a total creation order (queue positions, "oldest first") even within one millisecond.
CREATE TABLE jobs (
    seq                  bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                   text        NOT NULL UNIQUE,
    guild_id             bigint      NOT NULL,
    channel_id           bigint      NOT NULL,
    thread_id            bigint,
    user_id              bigint      NOT NULL,
    locale               text        NOT NULL,
    kind                 text        NOT NULL CHECK (kind IN ('img2video', 'multiframe')),
    params               jsonb       NOT NULL,
    resolution           text        NOT NULL,
    duration_seconds     integer     NOT NULL,
    private              boolean     NOT NULL,
    state                text        NOT NULL CHECK (state IN ('accepted', 'submitting', 'submitted',
                             'succeeded', 'delivered', 'rejected', 'failed', 'submit_unknown',
                             'expired', 'cancelled')),
    task_id              text,
    provider_status      text,
    progress_percent     integer,
    eta_seconds          integer,
    reason               text,
    attempt              integer     NOT NULL DEFAULT 0,
    poll_count           integer     NOT NULL DEFAULT 0,
    next_poll_at         timestamptz,
    created_at           timestamptz NOT NULL,
    submitted_at         timestamptz,
    finished_at          timestamptz,
    video_url            text,
    video_expires_at     timestamptz,
    card_message_id      bigint,
    status_message_id    bigint,
    delivered_message_id bigint,
    parent_job_id        text
);

CREATE INDEX jobs_member_state ON jobs (guild_id, user_id, state, seq);
CREATE INDEX jobs_guild_state ON jobs (guild_id, state, seq);
-- The poller's query; partial so delivered history does not bloat it. NULLS FIRST as the query orders.
CREATE INDEX jobs_due_polls ON jobs (next_poll_at NULLS FIRST, seq) WHERE state = 'submitted';
CREATE INDEX jobs_resume ON jobs (state, seq) WHERE state IN ('submitting', 'submitted', 'succeeded');
-- The input sweep: jobs that ended before a cutoff.
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;

CREATE TABLE job_inputs (
    job_id    text    NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    position  integer NOT NULL CHECK (position >= 0),
    filename  text    NOT NULL,
    mime_type text    NOT NULL,
    data      bytea   NOT NULL,
    PRIMARY KEY (job_id, position)
);

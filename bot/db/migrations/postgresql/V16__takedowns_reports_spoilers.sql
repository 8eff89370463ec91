-- Take-down, reports and spoilers (issue 25, item 7; bot/takedowns.py; the same tables as SQLite's V16).
-- A request posted behind a spoiler: its request card's pictures and its video (Re-roll and Extend keep it).
ALTER TABLE jobs ADD COLUMN spoiler boolean NOT NULL DEFAULT false;
-- A job's posts are found by message id (the Apps-menu entries name a message, not a job).
CREATE INDEX jobs_card_message ON jobs (card_message_id) WHERE card_message_id IS NOT NULL;
CREATE INDEX jobs_delivered_message ON jobs (delivered_message_id) WHERE delivered_message_id IS NOT NULL;
-- One row per removed job: who removed its posts (its requester, or a moderator), when, and why.
CREATE TABLE takedowns (
    job_id   text        PRIMARY KEY,
    guild_id bigint      NOT NULL,
    actor_id bigint      NOT NULL,
    role     text        NOT NULL CHECK (role IN ('requester', 'moderator')),
    reason   text,
    at       timestamptz NOT NULL
);
-- Members' reports of a video: one per member and job (a repeat changes nothing). `modlog_message_id`: the
-- mod-log message that carries the job's reports (the first report posts it, later ones edit it).
CREATE TABLE video_reports (
    job_id            text        NOT NULL,
    reporter_id       bigint      NOT NULL,
    guild_id          bigint      NOT NULL,
    reason            text        NOT NULL,
    at                timestamptz NOT NULL,
    modlog_message_id bigint,
    PRIMARY KEY (job_id, reporter_id)
);
CREATE INDEX video_reports_reporter ON video_reports (guild_id, reporter_id, at);

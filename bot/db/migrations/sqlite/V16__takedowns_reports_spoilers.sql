-- Take-down, reports and spoilers (issue 25, item 7; bot/takedowns.py). Times are integer milliseconds, UTC.
-- A request posted behind a spoiler: its request card's pictures and its video (Re-roll and Extend keep it).
ALTER TABLE jobs ADD COLUMN spoiler INTEGER NOT NULL DEFAULT 0 CHECK (spoiler IN (0, 1));
-- A job's posts are found by message id (the Apps-menu entries name a message, not a job).
CREATE INDEX jobs_card_message ON jobs (card_message_id) WHERE card_message_id IS NOT NULL;
CREATE INDEX jobs_delivered_message ON jobs (delivered_message_id) WHERE delivered_message_id IS NOT NULL;
-- One row per removed job: who removed its posts (its requester, or a moderator), when, and why.
CREATE TABLE takedowns (
    job_id   TEXT    PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    actor_id INTEGER NOT NULL,
    role     TEXT    NOT NULL CHECK (role IN ('requester', 'moderator')),
    reason   TEXT,
    at       INTEGER NOT NULL
);
-- Members' reports of a video: one per member and job (a repeat changes nothing). `modlog_message_id`: the
-- mod-log message that carries the job's reports (the first report posts it, later ones edit it).
CREATE TABLE video_reports (
    job_id            TEXT    NOT NULL,
    reporter_id       INTEGER NOT NULL,
    guild_id          INTEGER NOT NULL,
    reason            TEXT    NOT NULL,
    at                INTEGER NOT NULL,
    modlog_message_id INTEGER,
    PRIMARY KEY (job_id, reporter_id)
);
CREATE INDEX video_reports_reporter ON video_reports (guild_id, reporter_id, at);

-- A third kind of job, "startend": a video from a start and an end picture (issue 28, item 1). The CHECK is
-- kept (the database, not only bot/db/rows.py, refuses a kind the bot does not know, as on SQLite) and widened:
-- dropped and added again in this migration's one transaction, so no moment allows any kind.
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('img2video', 'multiframe', 'startend'));

-- Quotas, server settings, moderation and the audit log. Times are integer milliseconds, UTC.
CREATE TABLE guild_settings (
    guild_id INTEGER PRIMARY KEY,
    settings TEXT    NOT NULL  -- JSON object (bot/quotas/models.py GuildSettings)
);
CREATE TABLE quota_limits (
    guild_id  INTEGER NOT NULL,
    scope     TEXT    NOT NULL CHECK (scope IN ('server', 'default', 'role', 'member')),
    target_id INTEGER NOT NULL,  -- the role or member id; 0 for the server pool and the default
    period    TEXT    NOT NULL CHECK (period IN ('day', 'week', 'month')),
    videos    INTEGER CHECK (videos IS NULL OR videos >= 0),
    seconds   INTEGER CHECK (seconds IS NULL OR seconds >= 0),
    PRIMARY KEY (guild_id, scope, target_id, period)
);
-- One row per (entry, kind): a job is reserved once, consumed once, refunded once, whatever retries.
CREATE TABLE quota_ledger (
    entry    TEXT    NOT NULL,  -- a job id, or grant:<id>
    kind     TEXT    NOT NULL CHECK (kind IN ('reserve', 'consume', 'refund', 'grant')),
    guild_id INTEGER NOT NULL,
    user_id  INTEGER NOT NULL,
    videos   INTEGER NOT NULL,
    seconds  INTEGER NOT NULL,
    at       INTEGER NOT NULL,
    PRIMARY KEY (entry, kind)
);
CREATE INDEX quota_ledger_window ON quota_ledger (guild_id, at);
CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id INTEGER NOT NULL,
    actor_id INTEGER NOT NULL,
    action   TEXT    NOT NULL,
    before   TEXT,
    after    TEXT,
    at       INTEGER NOT NULL
);
CREATE INDEX audit_log_guild ON audit_log (guild_id, id);
CREATE TABLE blocked_members (
    guild_id INTEGER NOT NULL,
    user_id  INTEGER NOT NULL,
    reason   TEXT,
    PRIMARY KEY (guild_id, user_id)
);
CREATE TABLE prompt_blocklist (
    guild_id INTEGER NOT NULL,
    pattern  TEXT    NOT NULL,
    is_regex INTEGER NOT NULL CHECK (is_regex IN (0, 1)),
    PRIMARY KEY (guild_id, pattern, is_regex)
);

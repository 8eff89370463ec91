-- Quotas, server settings, moderation and the audit log (PostgreSQL; the same tables as SQLite's V2).
CREATE TABLE guild_settings (
    guild_id bigint PRIMARY KEY,
    settings jsonb  NOT NULL  -- bot/quotas/models.py GuildSettings
);
CREATE TABLE quota_limits (
    guild_id  bigint  NOT NULL,
    scope     text    NOT NULL CHECK (scope IN ('server', 'default', 'role', 'member')),
    target_id bigint  NOT NULL,  -- the role or member id; 0 for the server pool and the default
    period    text    NOT NULL CHECK (period IN ('day', 'week', 'month')),
    videos    integer CHECK (videos IS NULL OR videos >= 0),
    seconds   integer CHECK (seconds IS NULL OR seconds >= 0),
    PRIMARY KEY (guild_id, scope, target_id, period)
);
-- One row per (entry, kind): a job is reserved once, consumed once, refunded once, whatever retries.
CREATE TABLE quota_ledger (
    entry    text        NOT NULL,  -- a job id, or grant:<id>
    kind     text        NOT NULL CHECK (kind IN ('reserve', 'consume', 'refund', 'grant')),
    guild_id bigint      NOT NULL,
    user_id  bigint      NOT NULL,
    videos   integer     NOT NULL,
    seconds  integer     NOT NULL,
    at       timestamptz NOT NULL,
    PRIMARY KEY (entry, kind)
);
CREATE INDEX quota_ledger_window ON quota_ledger (guild_id, at);
CREATE TABLE audit_log (
    id       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    guild_id bigint      NOT NULL,
    actor_id bigint      NOT NULL,
    action   text        NOT NULL,
    before   text,
    after    text,
    at       timestamptz NOT NULL
);
CREATE INDEX audit_log_guild ON audit_log (guild_id, id);
CREATE TABLE blocked_members (
    guild_id bigint NOT NULL,
    user_id  bigint NOT NULL,
    reason   text,
    PRIMARY KEY (guild_id, user_id)
);
CREATE TABLE prompt_blocklist (
    guild_id bigint  NOT NULL,
    pattern  text    NOT NULL,
    is_regex boolean NOT NULL,
    PRIMARY KEY (guild_id, pattern, is_regex)
);

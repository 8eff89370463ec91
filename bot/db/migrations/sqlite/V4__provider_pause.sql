-- Provider pause (issue 12): when the provider says its account is out of credit (NOT_ENOUGH_BALANCE) or
-- refuses the bot's key, submits pause for every bot process instead of failing the queue; one process at a
-- time probes with one queued job, and the first task created ends the pause. One row per episode: the one
-- not ended (ended_at NULL) is the pause in force. Times are integer milliseconds, UTC.
CREATE TABLE provider_pauses (
    episode       INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT    NOT NULL CHECK (kind IN ('no_credit', 'misconfigured')),
    started_at    INTEGER NOT NULL,
    ended_at      INTEGER,
    next_probe_at INTEGER NOT NULL,  -- from then, one process may submit one queued job to see
    probe_owner   TEXT,              -- the process that claimed the last probe
    probes        INTEGER NOT NULL DEFAULT 0
);
-- At most one pause in force: a second process starting one finds it started (INSERT ... DO NOTHING).
CREATE UNIQUE INDEX provider_pauses_in_force ON provider_pauses ((ended_at IS NULL)) WHERE ended_at IS NULL;
-- The servers whose mod-log was told of an episode: each once, whichever process tells it; told again
-- when the episode ends.
CREATE TABLE provider_pause_guilds (
    episode  INTEGER NOT NULL REFERENCES provider_pauses (episode),
    guild_id INTEGER NOT NULL,
    PRIMARY KEY (episode, guild_id)
);

-- Provider pause (issue 12; the same tables as SQLite's V4): when the provider says its account is out of
-- credit (NOT_ENOUGH_BALANCE) or refuses the bot's key, submits pause for every bot process instead of
-- failing the queue; one process at a time probes with one queued job, and the first task created ends the
-- pause. One row per episode: the one not ended (ended_at NULL) is the pause in force.
CREATE TABLE provider_pauses (
    episode       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          text        NOT NULL CHECK (kind IN ('no_credit', 'misconfigured')),
    started_at    timestamptz NOT NULL,
    ended_at      timestamptz,
    next_probe_at timestamptz NOT NULL,  -- from then, one process may submit one queued job to see
    probe_owner   text,                  -- the process that claimed the last probe
    probes        integer     NOT NULL DEFAULT 0
);
-- At most one pause in force: a second process starting one finds it started (INSERT ... DO NOTHING).
CREATE UNIQUE INDEX provider_pauses_in_force ON provider_pauses ((ended_at IS NULL)) WHERE ended_at IS NULL;
-- The servers whose mod-log was told of an episode: each once, whichever process tells it; told again
-- when the episode ends.
CREATE TABLE provider_pause_guilds (
    episode  bigint NOT NULL REFERENCES provider_pauses (episode),
    guild_id bigint NOT NULL,
    PRIMARY KEY (episode, guild_id)
);

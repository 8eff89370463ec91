-- The provider's content refusals are strikes (issue 25, item 6; bot/strikes.py; the same tables as SQLite's V9).
-- One row per refused job: a strike of its member in its server. Strikes within the server's window pause the
-- member (a blocked_members row whose `strikes` names them); /mod unblock lifts the pause and sets
-- `lifted_at` on the strikes before it, which then no longer count.
CREATE TABLE content_strikes (
    job_id    text        PRIMARY KEY,
    guild_id  bigint      NOT NULL,
    user_id   bigint      NOT NULL,
    part      text        NOT NULL CHECK (part IN ('prompt', 'pictures', 'request')),
    at        timestamptz NOT NULL,
    lifted_at timestamptz
);
CREATE INDEX content_strikes_member ON content_strikes (guild_id, user_id, at);
-- What the provider refused, bot-wide: never sent to it again, from any server. A prompt (normalised), a
-- picture (its 64-bit difference hash as 16 hex digits, and its five bands of 13, 13, 13, 13 and 12 bits: a
-- picture within 4 bits shares at least one band), or a request (its prompts, one line per segment, and its
-- pictures' hashes in order, space-separated). Prompts are found by their SHA-256 (`prompt_digest`): a
-- keyframes request's prompts together can be longer than an index entry may be.
CREATE TABLE flagged_inputs (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          text        NOT NULL CHECK (kind IN ('prompt', 'picture', 'request')),
    prompt        text,
    prompt_digest text,
    pictures      text        NOT NULL DEFAULT '',
    band0         integer,
    band1         integer,
    band2         integer,
    band3         integer,
    band4         integer,
    job_id        text        NOT NULL,
    at            timestamptz NOT NULL
);
CREATE INDEX flagged_inputs_prompt ON flagged_inputs (prompt_digest) WHERE prompt_digest IS NOT NULL;
CREATE INDEX flagged_inputs_band0 ON flagged_inputs (band0) WHERE kind = 'picture';
CREATE INDEX flagged_inputs_band1 ON flagged_inputs (band1) WHERE kind = 'picture';
CREATE INDEX flagged_inputs_band2 ON flagged_inputs (band2) WHERE kind = 'picture';
CREATE INDEX flagged_inputs_band3 ON flagged_inputs (band3) WHERE kind = 'picture';
CREATE INDEX flagged_inputs_band4 ON flagged_inputs (band4) WHERE kind = 'picture';
-- A block that strikes made: the job ids of those strikes (NULL: a moderator's block).
ALTER TABLE blocked_members ADD COLUMN strikes text;

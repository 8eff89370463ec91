-- The provider's content refusals are strikes (issue 25, item 6; bot/strikes.py). Times are integer
-- milliseconds, UTC.
-- One row per refused job: a strike of its member in its server. Strikes within the server's window pause the
-- member (a blocked_members row whose `strikes` names them); /mod unblock lifts the pause and sets
-- `lifted_at` on the strikes before it, which then no longer count.
CREATE TABLE content_strikes (
    job_id    TEXT    PRIMARY KEY,
    guild_id  INTEGER NOT NULL,
    user_id   INTEGER NOT NULL,
    part      TEXT    NOT NULL CHECK (part IN ('prompt', 'pictures', 'request')),
    at        INTEGER NOT NULL,
    lifted_at INTEGER
);
CREATE INDEX content_strikes_member ON content_strikes (guild_id, user_id, at);
-- What the provider refused, bot-wide: never sent to it again, from any server. A prompt (normalised), a
-- picture (its 64-bit difference hash as 16 hex digits, and its five bands of 13, 13, 13, 13 and 12 bits: a
-- picture within 4 bits shares at least one band), or a request (its prompts, one line per segment, and its
-- pictures' hashes in order, space-separated). Prompts are found by their SHA-256 (`prompt_digest`): a
-- keyframes request's prompts together can be longer than an index entry may be.
CREATE TABLE flagged_inputs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT    NOT NULL CHECK (kind IN ('prompt', 'picture', 'request')),
    prompt        TEXT,
    prompt_digest TEXT,
    pictures      TEXT    NOT NULL DEFAULT '',
    band0         INTEGER,
    band1         INTEGER,
    band2         INTEGER,
    band3         INTEGER,
    band4         INTEGER,
    job_id        TEXT    NOT NULL,
    at            INTEGER NOT NULL
);
CREATE INDEX flagged_inputs_prompt ON flagged_inputs (prompt_digest) WHERE prompt_digest IS NOT NULL;
CREATE INDEX flagged_inputs_band0 ON flagged_inputs (band0) WHERE kind = 'picture';
CREATE INDEX flagged_inputs_band1 ON flagged_inputs (band1) WHERE kind = 'picture';
CREATE INDEX flagged_inputs_band2 ON flagged_inputs (band2) WHERE kind = 'picture';
CREATE INDEX flagged_inputs_band3 ON flagged_inputs (band3) WHERE kind = 'picture';
CREATE INDEX flagged_inputs_band4 ON flagged_inputs (band4) WHERE kind = 'picture';
-- A block that strikes made: the job ids of those strikes (NULL: a moderator's block).
ALTER TABLE blocked_members ADD COLUMN strikes TEXT;

-- A member's own defaults in a server (/settings; bot/member_settings.py). NULL: not set, the bot's own default
-- applies. Values are checked by the bot when set and again when used (a kind of request may not take one), so
-- the columns hold what was valid when it was set. `updated_at`: integer milliseconds, UTC.
CREATE TABLE member_settings (
    guild_id     INTEGER NOT NULL,
    user_id      INTEGER NOT NULL,
    resolution   TEXT,
    duration     INTEGER,
    movement     TEXT,
    private      INTEGER CHECK (private IN (0, 1)),
    confirm_cost INTEGER CHECK (confirm_cost IN (0, 1)),
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);

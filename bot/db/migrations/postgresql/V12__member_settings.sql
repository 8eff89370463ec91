-- A member's own defaults in a server (/settings; bot/member_settings.py). NULL: not set, the bot's own default
-- applies. Values are checked by the bot when set and again when used (a kind of request may not take one), so
-- the columns hold what was valid when it was set.
CREATE TABLE member_settings (
    guild_id     bigint      NOT NULL,
    user_id      bigint      NOT NULL,
    resolution   text,
    duration     integer,
    movement     text,
    private      boolean,
    confirm_cost boolean,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);

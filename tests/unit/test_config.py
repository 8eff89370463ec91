"""Settings: defaults, precedence, secret files, one clear line per bad variable, masked secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import (
    MIN_SECRET_LENGTH,
    VARIABLES,
    ConfigError,
    load_settings,
    render_env_example,
    render_markdown_table,
    unknown_variables,
)

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gabcde.very-secret-token-value"
KEY = "sk_live_super_secret_provider_key"


def test_defaults_follow_the_spec(tmp_path: Path) -> None:
    settings = load_settings({}, env_file=None)
    assert settings.vidu_api_base == "https://api.jiekou.ai/v3"
    assert settings.database_url.get() == "sqlite:///data/vidu-bot.db"
    assert settings.dev_guild_id is None
    assert settings.discord_api_base is None
    assert settings.image_max_bytes == 50 * 1024 * 1024
    assert not settings.discord_token


def test_environment_wins_over_dotenv_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("VIDU_API_BASE=https://api.novita.ai/v3/\nDEV_GUILD_ID=42\n")
    settings = load_settings({"DEV_GUILD_ID": "7"}, env_file=env_file)
    assert settings.vidu_api_base == "https://api.novita.ai/v3"  # trailing slash dropped
    assert settings.dev_guild_id == 7


def test_secret_file_variant_is_read_and_stripped(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text(TOKEN + "\n")
    settings = load_settings({"DISCORD_TOKEN_FILE": str(secret)}, env_file=None, require=["DISCORD_TOKEN"])
    assert settings.discord_token.get() == TOKEN


def test_secret_given_twice_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "key"
    secret.write_text(KEY)
    with pytest.raises(ConfigError, match="set VIDU_API_KEY or VIDU_API_KEY_FILE, not both"):
        load_settings({"VIDU_API_KEY": KEY, "VIDU_API_KEY_FILE": str(secret)}, env_file=None)


def test_unreadable_secret_file_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^VIDU_API_KEY_FILE: cannot read"):
        load_settings({"VIDU_API_KEY_FILE": str(tmp_path / "missing")}, env_file=None)


def test_missing_required_variable_names_it() -> None:
    with pytest.raises(ConfigError) as err:
        load_settings({"VIDU_API_KEY": KEY}, env_file=None, require=["DISCORD_TOKEN", "VIDU_API_KEY"])
    assert str(err.value).startswith("DISCORD_TOKEN is not set")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("PROVIDER_REQUESTS_PER_MINUTE", "fast", "'fast' is not a whole number"),
        ("PROVIDER_REQUESTS_PER_MINUTE", "0", "0 is outside 1..6000"),
        ("DEV_GUILD_ID", "my-server", "not a Discord id"),
        ("VIDU_API_BASE", "ftp://example.com", "is not a https/http URL"),
        ("DISCORD_GATEWAY_URL", "http://gw", "is not a wss/ws URL"),
        ("LOG_LEVEL", "loud", "is not one of debug, info, warning, error"),
        ("POLL_FIRST_SECONDS", "soon", "'soon' is not a number"),
        ("DATABASE_URL", "mysql://db", None),
        ("SHARD_IDS", "0,one", "'one' is not a shard number or range like 0-3"),
        ("SHARD_IDS", "3-1", "'3-1': the range runs backwards"),
        ("SHARD_IDS", "0-2,2", "a shard is listed twice"),
        # Digits int() cannot read (superscripts passed str.isdigit() and int() named nothing useful).
        ("SHARD_IDS", "0,²", "'²' is not a shard number or range like 0-3"),
        ("SHARD_IDS", "0-³", "'0-³' is not a shard number or range like 0-3"),
        ("DEV_GUILD_ID", "12²", "'12²' is not a Discord id (digits only)"),
        ("PROVIDER_REQUESTS_PER_MINUTE", "²", "'²' is not a whole number"),
        ("PROVIDER_REQUESTS_PER_MINUTE", "-5", "'-5' is not a whole number"),
        ("JOB_LEASE_SECONDS", "0.5", "0.5 is below 1"),
        ("IMAGE_WORKERS", "0", "0 is outside 1..16"),
    ],
)
def test_malformed_variable_stops_with_one_line_naming_it(
    name: str, value: str, expected: str | None
) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings({name: value}, env_file=None)
    message = str(err.value)
    assert message.startswith(f"{name} is malformed")
    assert "\n" not in message
    if expected:
        assert expected in message


def test_numbers_in_any_script_s_decimal_digits_are_read_as_int_reads_them() -> None:
    """The one rule for typed numbers (bot/numbers.py): Arabic-Indic and full-width digits are digits."""
    settings = load_settings({"PROVIDER_REQUESTS_PER_MINUTE": "٦٠", "IMAGE_MAX_BYTES": "1_000_000",
                              "DEV_GUILD_ID": "４２", "SHARD_COUNT": "٤", "SHARD_IDS": "٠-١,３"}, env_file=None)
    assert settings.provider_requests_per_minute == 60 and settings.image_max_bytes == 1_000_000
    assert settings.dev_guild_id == 42 and settings.shard_ids == (0, 1, 3)


@pytest.mark.parametrize("name", ["VIDU_API_KEY", "DISCORD_TOKEN"])
@pytest.mark.parametrize("value", ["e", "test", "sk_0123456789ab"])
def test_a_secret_too_short_to_be_real_stops_start_up_naming_it(name: str, value: str) -> None:
    """A short key would be found inside ordinary words; no real key or token is under 16 characters."""
    with pytest.raises(ConfigError) as err:
        load_settings({name: value}, env_file=None)
    message = str(err.value)
    assert message == (f"{name} is malformed: shorter than {MIN_SECRET_LENGTH} characters, too short to be "
                       "a real one (was it copied whole?)")  # the value itself is never shown


def test_a_secret_of_16_characters_and_an_unset_one_are_accepted() -> None:
    assert MIN_SECRET_LENGTH == 16
    settings = load_settings({"VIDU_API_KEY": "sk_0123456789abc", "DISCORD_TOKEN": ""}, env_file=None)
    assert settings.vidu_api_key.get() == "sk_0123456789abc" and not settings.discord_token


def test_secrets_never_show_in_repr_or_errors() -> None:
    settings = load_settings({"DISCORD_TOKEN": TOKEN, "VIDU_API_KEY": KEY,
                              "DATABASE_URL": "postgresql://bot:hunter2@db/bot"}, env_file=None)
    text = repr(settings) + str(settings) + f"{settings.vidu_api_key}"
    for secret in (TOKEN, KEY, "hunter2"):
        assert secret not in text
    assert settings.secrets() == [TOKEN, KEY]


def test_env_example_lists_every_variable_with_its_default() -> None:
    assert (ROOT / ".env.example").read_text() == render_env_example(), (
        "regenerate: python -c 'from bot.config import render_env_example as r; print(r(), end=\"\")' "
        "> .env.example"
    )
    for var in VARIABLES:
        assert f"\n{var.name}={var.default or ''}\n" in render_env_example()


def test_readme_configuration_table_is_current() -> None:
    readme = (ROOT / "README.md").read_text()
    for row in render_markdown_table().splitlines():
        assert row in readme, f"README configuration table is out of date at: {row}"


def test_shards_this_process_runs_are_read_as_lists_and_ranges() -> None:
    settings = load_settings({"SHARD_COUNT": "6", "SHARD_IDS": "4-5, 0"}, env_file=None)
    assert (settings.shard_count, settings.shard_ids) == (6, (0, 4, 5))
    unsharded = load_settings({}, env_file=None)
    assert (unsharded.shard_count, unsharded.shard_ids) == (None, None)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"SHARD_IDS": "0"}, "SHARD_IDS is set but SHARD_COUNT is not: say how many shards there are in total"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "1,2"},
         "SHARD_IDS: shard 2 does not exist with SHARD_COUNT=2 (shards are numbered 0 to 1)"),
    ],
)
def test_shards_that_do_not_fit_the_count_are_refused(environ: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(environ, env_file=None)
    assert str(err.value) == expected


def test_processes_splitting_the_shards_split_the_provider_rate_too() -> None:
    one = load_settings({"PROVIDER_REQUESTS_PER_MINUTE": "60"}, env_file=None)
    assert one.provider_rate_of_this_process() == 60
    shares = [load_settings({"PROVIDER_REQUESTS_PER_MINUTE": "60", "SHARD_COUNT": "4", "SHARD_IDS": ids},
                            env_file=None).provider_rate_of_this_process() for ids in ("0", "1-2", "3")]
    assert shares == [15, 30, 15] and sum(shares) <= 60


def test_the_job_loop_defaults_are_the_configuration_defaults() -> None:
    """WorkerSettings() (what the loop's tests run with) is what an operator with an empty .env gets."""
    from bot.jobs.worker import WorkerSettings
    from bot.wiring import worker_settings

    assert worker_settings(load_settings({}, env_file=None)) == WorkerSettings(sole_worker=True)
    changed = worker_settings(load_settings({"JOB_LEASE_SECONDS": "20", "DELIVERY_MAX_ATTEMPTS": "3"}, env_file=None))
    assert (changed.lease_seconds, changed.delivery_max_attempts) == (20.0, 3)


def test_a_variable_that_looks_like_ours_but_is_not_is_named_with_the_closest_one(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("VIDU_API_KEY=sk_0123456789abcdef\nMETRICS_PRT=9100\n")
    environ = {"VIDU_API_KEYS": "x", "DISCORD_TOKEN_FILE": "/run/secrets/t", "HOME": "/root",
               "VIDU_COLOUR": "y", "LOG_LEVEL": "info", "VIDU_LOOP_LAG_LOG": "1"}
    assert unknown_variables(environ, env_file=env_file) == [
        "warning: METRICS_PRT in .env is not a setting and is ignored: did you mean METRICS_PORT?",
        "warning: VIDU_API_KEYS in the environment is not a setting and is ignored: did you mean VIDU_API_KEY?",
        "warning: VIDU_COLOUR in the environment is not a setting and is ignored (see .env.example for the "
        "settings)",
    ]
    assert unknown_variables({"PATH": "/bin", "LOGNAME": "root"}, env_file=None) == []


def test_an_unsupported_database_scheme_names_the_two_it_takes_and_never_the_password() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"DATABASE_URL": "mysql://bot:hunter2@db/bot"}, env_file=None)
    assert str(caught.value) == ("DATABASE_URL is malformed: the scheme 'mysql' is not supported: it takes "
                                 "sqlite:///path/to/file.db or postgresql://user:password@host/database")

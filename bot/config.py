"""Typed, frozen settings read from the environment and `.env`.

One table (`VARIABLES`) declares every variable: its name, type, default and meaning. The loader, the
masked `repr`, `.env.example` and the README's configuration table all follow that table, and a test keeps
the two documents in step with it, so a setting is declared in exactly one place.

Over 400 lines on purpose: most of it is that table (about 60 variables with their help text), and keeping
it whole is the point.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dotenv import dotenv_values

from bot.looplag import ENV_FLAG as LOOP_LAG_FLAG
from bot.numbers import whole_number
from bot.pricing import BUILT_IN, DEFAULT_PRICE_TABLE, PriceTable, parse_credits, parse_price_table
from bot.quotas.charging import OperatorLimits, parse_limits
from bot.quotas.models import Limit, Scope


class ConfigError(Exception):
    """A missing or malformed variable: the message is one line that names it."""


@dataclass(frozen=True)
class Secret:
    """A secret value that never shows itself in a repr, str or f-string."""

    _value: str = field(repr=False)

    def get(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')" if self._value else "Secret('')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)


# ---------------------------------------------------------------- parsers: text -> value, or ValueError
def _str(text: str) -> str:
    return text


class ShownProblem(ValueError):
    """A malformed value whose message never holds the value: shown even for a secret variable."""


# The shortest key or token accepted. Real ones are far longer (a provider key is `sk_` and 40-odd characters,
# a Discord bot token about 70), so a shorter value was mistyped, cut short or is a placeholder. And every
# log line hides the secrets it holds: a short or common-word key (`e`, `test`) would also be found, and
# hidden, in ordinary words of ordinary lines (logs hide only whole tokens, but `test` is one); 16 characters
# are never an ordinary word.
MIN_SECRET_LENGTH = 16


def _secret(text: str) -> Secret:
    if text and len(text) < MIN_SECRET_LENGTH:
        raise ShownProblem(f"shorter than {MIN_SECRET_LENGTH} characters, too short to be a real one "
                           "(was it copied whole?)")
    return Secret(text)


def _int(low: int, high: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = whole_number(text.strip().replace("_", ""))  # 1_000_000 reads as a million
        if value is None:
            raise ValueError(f"{text!r} is not a whole number")
        if value < low or (high is not None and value > high):
            bounds = f"{low}..{high}" if high is not None else f">= {low}"
            raise ValueError(f"{value} is outside {bounds}")
        return value

    return parse


def _float(low: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a number") from None
        if value < low:
            raise ValueError(f"{value} is below {low}")
        return value

    return parse


def _optional_int(text: str) -> int | None:
    return _int(1)(text) if text.strip() else None


def _optional_port(text: str) -> int | None:
    """Empty: off. 0 lets the system pick a free port (tests read it from the log)."""
    return _int(0, 65535)(text) if text.strip() else None


def _shard_ids(text: str) -> tuple[int, ...] | None:
    """"0,2" or "0-3" (or both, "0-1,4"); empty: every shard of SHARD_COUNT."""
    if not text.strip():
        return None
    ids: list[int] = []
    for part in text.split(","):
        low, dash, high = part.strip().partition("-")
        first, last = whole_number(low), whole_number(high) if dash else whole_number(low)
        if first is None or last is None:
            raise ValueError(f"{part.strip()!r} is not a shard number or range like 0-3")
        if last < first:
            raise ValueError(f"{part.strip()!r}: the range runs backwards")
        ids.extend(range(first, last + 1))
    if len(set(ids)) != len(ids):
        raise ValueError("a shard is listed twice")
    return tuple(sorted(ids))


def _snowflake(text: str) -> int | None:
    if not text.strip():
        return None
    value = whole_number(text.strip())
    if value is None:
        raise ValueError(f"{text!r} is not a Discord id (digits only)")
    return value


def _url(*schemes: str, optional: bool = False) -> Callable[[str], str | None]:
    def parse(text: str) -> str | None:
        text = text.strip()
        if not text and optional:
            return None
        parts = urlsplit(text)
        if parts.scheme not in schemes or not parts.netloc:
            raise ValueError(f"{text!r} is not a {'/'.join(schemes)} URL")
        return text.rstrip("/")

    return parse


def _database_url(text: str) -> str:
    text = text.strip()
    scheme = urlsplit(text).scheme
    if scheme in ("postgres", "postgresql", "postgresql+asyncpg"):
        return text
    if scheme == "sqlite" or "://" not in text:
        return text
    # The scheme only (the rest may hold a password): it is shown although the variable is a secret.
    shown = scheme if scheme.replace("+", "").isalnum() and len(scheme) <= 20 else "this"
    raise ShownProblem(f"the scheme {shown!r} is not supported: it takes sqlite:///path/to/file.db or "
                       "postgresql://user:password@host/database")


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        value = text.strip().lower()
        if value not in allowed:
            raise ValueError(f"{text!r} is not one of {', '.join(allowed)}")
        return value

    return parse


def _screens(text: str) -> tuple[str, ...]:
    """SAFETY_SCREENS: known screen names, comma-separated; empty or none: no screen."""
    from bot.safety.screens import SCREENS

    names = tuple(n.strip().lower() for n in text.split(",") if n.strip() and n.strip().lower() != "none")
    unknown = [n for n in names if n not in SCREENS]
    if unknown:
        raise ValueError(f"unknown screen {unknown[0]!r} (known: {', '.join(SCREENS)})")
    return names


def _price_table(text: str) -> PriceTable:
    return parse_price_table(text, BUILT_IN)


def _optional_money(text: str) -> int | None:
    """An amount in the price table's currency as credits (thousandths); empty: none."""
    return parse_credits(text) if text.strip() else None


def _limits(scope: Scope) -> Callable[[str], tuple[Limit, ...]]:
    return lambda text: parse_limits(text, scope)


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"{text!r} is not true/false")


@dataclass(frozen=True)
class Variable:
    name: str
    attr: str
    parse: Callable[[str], Any]
    default: str | None  # None: required when the command needs it (see `load_settings(require=...)`)
    help: str
    secret: bool = False


MB = 1024 * 1024

VARIABLES: tuple[Variable, ...] = (
    Variable("DISCORD_TOKEN", "discord_token", _secret, None,
             "Bot token from the Discord developer portal (needed to run the bot, not for the CLI); "
             f"one under {MIN_SECRET_LENGTH} characters is refused at start-up.", secret=True),
    Variable("VIDU_API_KEY", "vidu_api_key", _secret, None,
             "API key of the provider account that pays for the videos; one under "
             f"{MIN_SECRET_LENGTH} characters (a real key is far longer) is refused at start-up.", secret=True),
    Variable("VIDU_API_BASE", "vidu_api_base", _url("https", "http"), "https://api.jiekou.ai/v3",
             "Base URL of the task API (Novita and PPIO serve the same API at their own hosts)."),
    Variable("DATABASE_URL", "database_url", _database_url, "sqlite:///data/vidu-bot.db",
             "sqlite:///relative.db, sqlite:////absolute.db or postgresql://user:pass@host/db.", secret=True),
    Variable("DEV_GUILD_ID", "dev_guild_id", _snowflake, "",
             "Server id whose commands are synced at every start (shown there at once); empty: global commands, "
             "registered by the first start and by `python -m bot sync`."),
    Variable("DISCORD_API_BASE", "discord_api_base", _url("https", "http", optional=True), "",
             "REST proxy base, e.g. http://proxy/api/v10; empty: Discord itself."),
    Variable("DISCORD_GATEWAY_URL", "discord_gateway_url", _url("wss", "ws", optional=True), "",
             "Gateway proxy URL; empty: the one Discord announces."),
    Variable("PROVIDER_REQUESTS_PER_MINUTE", "provider_requests_per_minute", _int(1, 6000), "60",
             "Client-side cap on provider calls (submits and polls share it); with SHARD_IDS, each process "
             "takes its shards' share of it."),
    Variable("PROVIDER_MAX_IN_FLIGHT", "provider_max_in_flight", _optional_int, "",
             "Tasks the bot keeps at the provider at once, across every process on the database (empty: no cap). "
             "Set it to the account's concurrency (Vidu: 5 per organisation by default) so that the rest wait in "
             "the bot's queue, where Cancel is free and fair turns decide, not in the provider's."),
    Variable("PROVIDER_TIMEOUT_SECONDS", "provider_timeout_seconds", _float(1), "30",
             "Time limit of one provider call."),
    Variable("PROVIDER_MAX_ATTEMPTS", "provider_max_attempts", _int(1, 20), "5",
             "Attempts for a retryable provider call (429, 5xx, connection); a paid submit is retried only "
             "when it provably created no task. A `Retry-After` is honoured up to 300 s (a longer one is cut to "
             "that and logged as `provider.retry_after_clamped`); one that cannot be read counts as a plain 429."),
    Variable("PROVIDER_PAUSE_PROBE_SECONDS", "provider_pause_probe_seconds", _float(1), "300",
             "While the provider's account is out of credit (or its key is refused), submits pause for every "
             "process and queued jobs wait; one of them is tried this often, and the first that goes through "
             "resumes the rest."),
    Variable("POLL_FIRST_SECONDS", "poll_first_seconds", _float(0.1), "5",
             "Delay before the first poll of a submitted task."),
    Variable("POLL_MAX_SECONDS", "poll_max_seconds", _float(1), "60",
             "Longest gap between two polls of one task while the provider names no finish time (one it "
             "names is followed up to 10 minutes ahead)."),
    Variable("JOB_TIMEOUT_MINUTES", "job_timeout_minutes", _int(1), "120",
             "A task without a final answer after this long is late: its member is told once, and the bot "
             "keeps following it (the provider may still finish and bill it)."),
    Variable("OFF_PEAK_TIMEOUT_HOURS", "off_peak_timeout_hours", _int(1), "48",
             "The same for off-peak tasks, which the provider may finish within 48 h."),
    Variable("JOB_GIVE_UP_HOURS", "job_give_up_hours", _int(1, 24 * 30), "72",
             "The bot stops following a task still unfinished after this long: the job expires and its "
             "charge is kept (the provider may still bill it; `python -m bot ledger` shows it)."),
    Variable("DELIVERY_GIVE_UP_HOURS", "delivery_give_up_hours", _int(1, 24 * 7), "6",
             "A finished video whose download or post keeps failing is given up after this long: the job "
             "expires (charged: it was made), its member gets the provider's link, the mod-log is told."),
    Variable("DELIVERY_MAX_ATTEMPTS", "delivery_max_attempts", _int(1, 1000), "30",
             "The same after this many failed tries (5 s, 10 s, 20 s ... then every 5 minutes)."),
    Variable("MAX_ACTIVE_JOBS_PER_MEMBER", "max_active_jobs_per_member", _int(1, 50), "2",
             "Jobs one member may have at the provider at once; more wait in the bot's queue."),
    Variable("MAX_QUEUED_JOBS_PER_MEMBER", "max_queued_jobs_per_member", _int(0, 100), "5",
             "Jobs one member may have waiting in the bot's queue; beyond that a request is refused."),
    Variable("PRICE_TABLE", "price_table", _price_table, DEFAULT_PRICE_TABLE,
             "Estimated provider cost in US dollars, the one table behind request cards, credit limits and the "
             "budget: kind=BASE+PER_SECOND/s (img2video, multiframe, startend) and resolution=xFACTOR "
             "(540p, 720p, 1080p), "
             "comma-separated; an entry left out keeps its default. Credits count thousandths of a dollar."),
    Variable("BUDGET_PER_DAY", "budget_per_day", _optional_money, "",
             "The bot's overall budget per UTC day across every server, in dollars of PRICE_TABLE (e.g. 50 or "
             "12.50): a request that would take the day's estimated cost past it is refused; empty: no budget."),
    Variable("BUDGET_PER_MONTH", "budget_per_month", _optional_money, "",
             "The same per UTC calendar month; empty: no budget."),
    Variable("DEFAULT_MEMBER_LIMITS", "default_member_limits", _limits(Scope.DEFAULT),
             "videos=10/day,credits=2.00/day",
             "Limits every member starts with in a server that has not set its own default for that period "
             "(/quota set scope:default): unit=amount/period, comma-separated, units videos, seconds or credits "
             "(dollars), periods day, week or month; none: no default (no limit until the server sets one)."),
    Variable("DEFAULT_SERVER_LIMITS", "default_server_limits", _limits(Scope.SERVER),
             "credits=20.00/day,credits=200.00/month",
             "The same for each server's pool, shared by all its members (/quota set scope:server); none: no "
             "default."),
    Variable("POLL_CONCURRENCY", "poll_concurrency", _int(1, 100), "8",
             "Provider polls in flight at once."),
    Variable("JOB_LEASE_SECONDS", "job_lease_seconds", _float(1), "60",
             "How long a bot process keeps a job it works on without renewing it: after a process dies, "
             "another one takes its jobs over this much later (a lone process, restarted, at once)."),
    Variable("SHARD_COUNT", "shard_count", _optional_int, "",
             "Discord shards in total, for several bot processes (empty: one process, as many shards as "
             "Discord recommends)."),
    Variable("SHARD_IDS", "shard_ids", _shard_ids, "",
             "The shards this process connects, e.g. 0,1 or 2-3 (needs SHARD_COUNT; empty: all of them). "
             "Every process shares the job queue, so any of them may deliver any job."),
    Variable("ATTACHMENT_READ_TIMEOUT_SECONDS", "attachment_read_timeout_seconds", _float(1), "30",
             "Time limit for reading a member's attachments from Discord's CDN."),
    Variable("INPUT_RETENTION_HOURS", "input_retention_hours", _int(0, 24 * 90), "24",
             "How long a job's pictures are kept after it ends, for Re-roll and Try again."),
    Variable("IMAGE_WORKERS", "image_workers", _int(1, 16), "2",
             "Processes preparing members' pictures (Pillow), so big pictures never stall the bot; each may use "
             "a few hundred MB on a 40-megapixel picture."),
    Variable("SAFETY_SCREENS", "safety_screens", _screens, "nudenet",
             "Screens that look at members' pictures before anything is spent or shown, where a server's "
             "/config safety says so: nudenet (offline, needs pip install 'vidu-bot[safety]'); none: no screen "
             "(pictures are then never shown on request cards where screening is wanted)."),
    Variable("IMAGE_MAX_BYTES", "image_max_bytes", _int(1), str(50 * MB),
             "Largest image file accepted (the provider's limit is 50 MB)."),
    Variable("IMAGE_MAX_PIXELS", "image_max_pixels", _int(1), "40000000",
             "Largest image in pixels (a decompression-bomb guard)."),
    Variable("IMAGE_DATA_URI_BUDGET", "image_data_uri_budget", _int(1024), str(10 * MB),
             "Largest data URI sent for one image; larger images are re-encoded to fit."),
    Variable("VIDEO_MAX_BYTES", "video_max_bytes", _int(1), str(500 * MB),
             "Largest finished video downloaded from the provider."),
    Variable("VIDEO_DOWNLOAD_TIMEOUT_SECONDS", "video_download_timeout_seconds", _float(1), "300",
             "Time limit of one video download."),
    Variable("DATA_DIR", "data_dir", _str, "data",
             "Folder for temporary downloads (videos being delivered)."),
    Variable("LOG_LEVEL", "log_level", _choice("debug", "info", "warning", "error", "trace"), "info",
             "Lowest level of log lines written; trace adds discord.py's every request and gateway frame."),
    Variable("LOG_FORMAT", "log_format", _choice("text", "json"), "text",
             "text: one readable line per event; json: one JSON object per line (ts, level, logger, message, "
             "job_id, guild_id, user_id)."),
    Variable("METRICS_PORT", "metrics_port", _optional_port, "",
             "Port of the /metrics (Prometheus) and /healthz server; empty: no server."),
    Variable("METRICS_HOST", "metrics_host", _str, "0.0.0.0",  # noqa: S104 - scraped from other containers
             "Address the metrics server listens on."),
    Variable("HEALTH_MAX_TICK_SECONDS", "health_max_tick_seconds", _float(1), "600",
             "/healthz reports unhealthy when the job loop has not finished a round for this long "
             "(a round may include one video download and upload)."),
)


@dataclass(frozen=True)
class Settings:
    discord_token: Secret
    vidu_api_key: Secret
    vidu_api_base: str
    database_url: Secret
    dev_guild_id: int | None
    discord_api_base: str | None
    discord_gateway_url: str | None
    provider_requests_per_minute: int
    provider_max_in_flight: int | None
    provider_timeout_seconds: float
    provider_max_attempts: int
    provider_pause_probe_seconds: float
    poll_first_seconds: float
    poll_max_seconds: float
    job_timeout_minutes: int
    off_peak_timeout_hours: int
    job_give_up_hours: int
    delivery_give_up_hours: int
    delivery_max_attempts: int
    max_active_jobs_per_member: int
    max_queued_jobs_per_member: int
    price_table: PriceTable
    budget_per_day: int | None
    budget_per_month: int | None
    default_member_limits: tuple[Limit, ...]
    default_server_limits: tuple[Limit, ...]
    poll_concurrency: int
    job_lease_seconds: float
    shard_count: int | None
    shard_ids: tuple[int, ...] | None
    attachment_read_timeout_seconds: float
    input_retention_hours: int
    image_workers: int
    safety_screens: tuple[str, ...]
    image_max_bytes: int
    image_max_pixels: int
    image_data_uri_budget: int
    video_max_bytes: int
    video_download_timeout_seconds: float
    data_dir: str
    log_level: str
    log_format: str
    metrics_port: int | None
    metrics_host: str
    health_max_tick_seconds: float

    def provider_rate_of_this_process(self) -> int:
        """This process's part of PROVIDER_REQUESTS_PER_MINUTE. With SHARD_IDS each process takes its
        shards' share, so processes splitting the shards stay under the limit together (their job loops
        share the work evenly through leases, whatever shard a request came in on)."""
        if self.shard_ids is None or self.shard_count is None:
            return self.provider_requests_per_minute
        return max(1, self.provider_requests_per_minute * len(self.shard_ids) // self.shard_count)

    def operator_limits(self) -> OperatorLimits:
        """What the operator caps: default limits for servers that set none, and the budget."""
        return OperatorLimits(self.default_member_limits + self.default_server_limits, self.budget_per_day,
                              self.budget_per_month)

    def secrets(self) -> list[str]:
        """Every secret value that is set: the log redaction filter hides each of them."""
        return [v.get() for v in (self.discord_token, self.vidu_api_key) if v]


def _raw_value(var: Variable, environ: Mapping[str, str], dotenv: Mapping[str, str | None]) -> str | None:
    """The variable's text: the environment wins over .env; NAME_FILE reads a (Docker) secret file."""

    def lookup(name: str) -> str | None:
        if name in environ:
            return environ[name]
        return dotenv.get(name)

    direct, file_name = lookup(var.name), lookup(var.name + "_FILE")
    if file_name:
        if direct:
            raise ConfigError(f"{var.name}: set {var.name} or {var.name}_FILE, not both")
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{var.name}_FILE: cannot read {file_name} ({exc.strerror})") from None
    return direct


def load_settings(
    environ: Mapping[str, str] | None = None,
    *,
    env_file: Path | None = Path(".env"),
    require: Iterable[str] = (),
) -> Settings:
    """Read every variable; raise ConfigError naming the first bad one.

    `require` names variables without a default that this command needs (the bot needs DISCORD_TOKEN,
    the CLI does not), so a missing one stops start-up with a clear line.
    """
    environ = os.environ if environ is None else environ
    dotenv: Mapping[str, str | None] = {}
    if env_file is not None and env_file.is_file():
        dotenv = dotenv_values(env_file)
    required = set(require)
    values: dict[str, Any] = {}
    for var in VARIABLES:
        text = _raw_value(var, environ, dotenv)
        if text is None or not text.strip():
            if var.default is None and var.name in required:
                raise ConfigError(f"{var.name} is not set: {var.help}")
            text = var.default or ""
        try:
            parsed = var.parse(text)
        except ValueError as exc:
            shown = "(value hidden)" if var.secret and not isinstance(exc, ShownProblem) else str(exc)
            raise ConfigError(f"{var.name} is malformed: {shown}") from None
        values[var.attr] = Secret(parsed) if var.secret and not isinstance(parsed, Secret) else parsed
    _check_shards(values.get("shard_count"), values.get("shard_ids"))
    return Settings(**values)


# Variables starting so are taken for ours: one that is not in VARIABLES is a typo worth a warning (the
# environment holds other programs' variables too, so only these prefixes; a .env file holds only ours).
OUR_PREFIXES = ("VIDU_", "DISCORD_", "DATABASE_", "DEV_GUILD", "PROVIDER_", "POLL_", "JOB_", "OFF_PEAK", "DELIVERY_",
                "MAX_ACTIVE", "MAX_QUEUED", "PRICE_", "BUDGET_", "DEFAULT_MEMBER", "DEFAULT_SERVER", "SHARD_",
                "ATTACHMENT_", "INPUT_RETENTION", "IMAGE_", "SAFETY_", "VIDEO_", "LOG_LEVEL", "LOG_FORMAT",
                "METRICS_", "HEALTH_")

# Read outside this table: benchmarks' loop-lag probe (bot/looplag.py).
OTHER_VARIABLES = (LOOP_LAG_FLAG,)


def unknown_variables(environ: Mapping[str, str] | None = None, *,
                      env_file: Path | None = Path(".env")) -> list[str]:
    """One warning line per variable that looks like ours but is not one (`VIDU_API_KEYS`), naming the closest
    known name: a misspelt setting is otherwise silently ignored and its default used."""
    environ = os.environ if environ is None else environ
    dotenv = dotenv_values(env_file) if env_file is not None and env_file.is_file() else {}
    known = {v.name for v in VARIABLES}
    known |= {name + "_FILE" for name in known} | set(OTHER_VARIABLES)
    names = {n for n in environ if n.upper().startswith(OUR_PREFIXES)} | set(dotenv)
    lines = []
    for name in sorted(names - known):
        where = "in .env" if name in dotenv and name not in environ else "in the environment"
        close = difflib.get_close_matches(name.upper(), sorted(known), n=1, cutoff=0.6)
        hint = f": did you mean {close[0]}?" if close else " (see .env.example for the settings)"
        lines.append(f"warning: {name} {where} is not a setting and is ignored{hint}")
    return lines


def _check_shards(count: int | None, ids: tuple[int, ...] | None) -> None:
    if ids is None:
        return
    if count is None:
        raise ConfigError("SHARD_IDS is set but SHARD_COUNT is not: say how many shards there are in total")
    outside = [i for i in ids if i >= count]
    if outside:
        raise ConfigError(f"SHARD_IDS: shard {outside[0]} does not exist with SHARD_COUNT={count} "
                          f"(shards are numbered 0 to {count - 1})")


def default_setting(attr: str) -> Any:
    """A setting's default, parsed from its variable: for code that has defaults of its own (the job loop's
    WorkerSettings), so a default is written once, here."""
    (var,) = [v for v in VARIABLES if v.attr == attr]
    return var.parse(var.default or "")


def settings_field_names() -> set[str]:
    return {f.name for f in fields(Settings)}


def render_env_example() -> str:
    """The text of `.env.example`: every variable, its default and what it is for."""
    lines = ["# vidu-bot configuration. Copy to .env and fill in the two secrets.",
             "# Any NAME may instead be given as NAME_FILE=/path/to/file (Docker secrets).", ""]
    for var in VARIABLES:
        lines.append(f"# {var.help}")
        lines.append(f"{var.name}={var.default or ''}")
        lines.append("")
    return "\n".join(lines)


def render_markdown_table() -> str:
    """The README's configuration table."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for var in VARIABLES:
        default = f"`{var.default}`" if var.default else "(required)" if var.default is None else "(empty)"
        rows.append(f"| `{var.name}` | {default} | {var.help} |")
    return "\n".join(rows)

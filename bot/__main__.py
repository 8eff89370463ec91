"""Command line: `python -m bot [run|check|sync|migrate|health|ledger|animate|keyframes|task|demo]`.

The subcommands other than `run` and `sync` work without Discord and use the same validation, pipeline
and provider client as the bot. Errors are one human line on stderr, never a traceback or a secret.

The parser and each subcommand's short body live here; the larger parts are in bot/cli/ (paid submits in the
ledger, following a task, the pictures, the Discord token check).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Coroutine, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import aiohttp

from bot.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    EXIT_OPERATOR,
    EXIT_TASK_FAILED,
    EXIT_UNCERTAIN,
    KEY_CHECK_TASK_ID,
    CliError,
    provider_client,
    provider_failure,
)
from bot.cli.discord_token import check_discord
from bot.cli.follow import describe, follow, resumable
from bot.cli.images import images_as_request_values
from bot.config import ConfigError, Settings, load_settings, unknown_variables
from bot.logs import configure_logging, redact
from bot.params import Img2VideoParams
from bot.provider import (
    OperatorError,
    ProviderError,
    RequestValidationError,
    TaskNotFound,
    TransientProviderError,
)
from bot.provider.models import FAST_RESOLUTIONS, MAX_VOICE_ID_CHARS, MULTIFRAME_RESOLUTIONS
from bot.requests import (
    InputProblem,
    keyframes_params,
    provider_request,
)

__all__ = ["EXIT_OK", "EXIT_UNCERTAIN", "main"]

Command = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, None]]


def package_version() -> str:
    try:
        return metadata.version("vidu-bot")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


# ------------------------------------------------------------------------------------------ parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="VIDU Q2 Pro Discord bot.")
    parser.add_argument("--version", action="version", version=f"vidu-bot {package_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("run", help="run the Discord bot (the default)")
    sub.add_parser("sync", help="sync the slash commands globally with Discord")
    sub.add_parser("check", help="check the configuration, the database, the provider key and the Discord token "
                                 "(and print the invite link)")
    sub.add_parser("migrate", help="apply the database migrations for DATABASE_URL and list what was applied")
    sub.add_parser("health", help="ask the running bot's /healthz (METRICS_PORT); exit 0 when healthy")
    demo = sub.add_parser("demo", help="watch the bot work without accounts: a scripted session against the bundled "
                                       "fakes, written as one HTML page (needs the dev extra)")
    demo.add_argument("--out", type=Path, metavar="PATH", help="where to write the page (default ./vidu-demo.html)")
    ledger = sub.add_parser("ledger", help="check the ledger's charges and refunds against the provider's tasks; "
                                           "exit 1 on a disagreement")
    ledger.add_argument("--since", default="7d", metavar="WHEN",
                        help="jobs from this time on: 7d, 24h, 30m, 2w, 90s or an ISO date such as 2026-11-01 "
                             "(default 7d; before 1970: everything)")
    ledger.add_argument("--guild", type=int, metavar="ID", help="one server only")
    output = ledger.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="the report as JSON, for scripts")
    output.add_argument("--csv", action="store_true", help="one row per job as CSV, for a spreadsheet")

    def wait_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--wait", action="store_true", help="follow the task and save the video")
        p.add_argument("--out", type=Path, help="where to save the video (default ./<task_id>.mp4)")

    def paid_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--yes", action="store_true",
                       help="submit without asking to confirm the estimated cost (needed without a terminal)")
        wait_options(p)

    animate = sub.add_parser("animate", help="one image to a video (fast img2video)")
    animate.add_argument("image", help="a local image file or an http(s) URL")
    animate.add_argument("--prompt", required=True)
    animate.add_argument("--duration", type=int, default=5, help="1-10 seconds (default 5)")
    animate.add_argument("--resolution", choices=FAST_RESOLUTIONS, default="720p")
    animate.add_argument("--movement", choices=["auto", "small", "medium", "high"], default="auto")
    animate.add_argument("--seed", type=int)
    animate.add_argument("--audio", action="store_true")
    animate.add_argument("--bgm", action="store_true")
    animate.add_argument("--off-peak", action="store_true", help="cheaper, finished within 48 h")
    animate.add_argument("--voice-id", help=f"the provider's voice for generated speech (its id, at most "
                         f"{MAX_VOICE_ID_CHARS} characters)")
    animate.add_argument("--watermark", action="store_true", help="the provider's mark on the video")
    paid_options(animate)

    keyframes = sub.add_parser("keyframes", help="a start and an end image, or a start image and 2-9 keyframes, "
                               "to one video")
    keyframes.add_argument("start", help="the first frame (file or URL)")
    keyframes.add_argument("keys", nargs="+", metavar="KEY",
                           help="the end frame alone (start-end), or 2 to 9 keyframes, in order")
    keyframes.add_argument("--prompts", help='one prompt, or one per segment: "p1|p2|p3"')
    keyframes.add_argument("--durations", help='one duration, or one per segment: "4,5,3" (2-7 s; 1-8 s with an '
                           'end frame alone)')
    keyframes.add_argument("--resolution", choices=MULTIFRAME_RESOLUTIONS, default="720p")
    keyframes.add_argument("--movement", choices=["auto", "small", "medium", "high"],
                           help="how much things move (with an end frame alone; default auto)")
    keyframes.add_argument("--watermark", action="store_true")
    paid_options(keyframes)

    task = sub.add_parser("task", help="show a task's state")
    task.add_argument("task_id")
    wait_options(task)
    return parser


# ------------------------------------------------------------------------------------------ commands
async def cmd_animate(args: argparse.Namespace, settings: Settings) -> None:
    from bot.cli.paid import PaidRequest, spend  # the store and the job loop's pieces: lazy

    params = Img2VideoParams(
        prompt=args.prompt, duration=args.duration, resolution=args.resolution, movement=args.movement,
        seed=args.seed, audio=args.audio, bgm=args.bgm, off_peak=args.off_peak, voice_id=args.voice_id,
        watermark=args.watermark)
    images = await images_as_request_values([args.image], settings, resolution=args.resolution)
    provider_request(params, images)  # every field checked before the estimate is shown
    await spend(PaidRequest(params, images), settings, yes=args.yes, wait=args.wait, out=args.out)


async def cmd_keyframes(args: argparse.Namespace, settings: Settings) -> None:
    from bot.cli.paid import PaidRequest, spend  # the store and the job loop's pieces: lazy

    # Counts and numbers first: a typo should not cost the time of checking ten images.
    params = keyframes_params(len(args.keys), prompts=args.prompts, durations=args.durations,
                              resolution=args.resolution, movement=args.movement, watermark=args.watermark)
    images = await images_as_request_values([args.start, *args.keys], settings, resolution=args.resolution,
                                            start_end=len(args.keys) == 1)
    provider_request(params, images)
    await spend(PaidRequest(params, images), settings, yes=args.yes, wait=args.wait, out=args.out)


async def cmd_task(args: argparse.Namespace, settings: Settings) -> None:
    """A task's state; with --wait followed to its end. A task the command line submitted has its ledger job
    settled here too (refunded when it failed, charged once its video is saved)."""
    from bot.cli.paid import OperatorLedger, ledger_store

    async with ledger_store(settings) as store, aiohttp.ClientSession() as session:
        client = provider_client(session, settings)
        ledger = await OperatorLedger.of_task(store, args.task_id)
        try:
            if args.wait:
                with resumable(args.task_id, args.out):
                    await follow(client, args.task_id, settings, args.out, ledger)
                return
            result = await client.get_task(args.task_id)
        except ProviderError as exc:
            raise provider_failure(exc, settings) from None
        if ledger is not None:
            await ledger.seen(result)
    print(f"{args.task_id}: {describe(result)}")
    for video in result.videos:
        print(f"video: {video.url} (link valid {video.ttl_seconds} s)")


async def cmd_check(args: argparse.Namespace, settings: Settings) -> None:
    print("ok: configuration")
    for line in screen_report(settings.safety_screens):
        print(line)
    from bot.db import open_store  # the store is only needed here and by the bot

    try:
        async with open_store(settings.database_url.get()):
            pass
    except Exception as exc:  # any failure here means "not writable": say which and stop
        raise CliError(f"DATABASE_URL: the database is not usable ({type(exc).__name__}: {exc})",
                       EXIT_OPERATOR) from None
    print("ok: database writable")
    async with aiohttp.ClientSession() as session:
        client = provider_client(session, settings)
        try:
            await client.get_task(KEY_CHECK_TASK_ID)
        except TaskNotFound:
            pass  # an authenticated "no such task": the key works
        except ProviderError as exc:
            raise provider_failure(exc, settings) from None
    print(f"ok: provider key accepted by {settings.vidu_api_base}")
    for line in await check_discord(settings):
        print(line)


def screen_report(configured: tuple[str, ...]) -> list[str]:
    """Which picture screens run and which cannot: a missing one is reported, never a failure (README "Safety")."""
    from bot.safety import SCREENS, installed_screens

    usable, missing = installed_screens(configured)
    lines = [f"ok: screen {name} active: {SCREENS[name].sees}" for name in usable]
    lines += [f"unavailable: screen {name}: {why}" for name, why in missing.items()]
    if "marker" in usable:
        lines.append("warning: screen marker is the tests' seam: it flags no real picture, yet request cards "
                     "show the pictures it passed (use nudenet)")
    if not usable:
        lines.append("warning: no picture screen can run (SAFETY_SCREENS): members' pictures are not screened, "
                     "and request cards leave them out wherever a server asks for screening")
    return lines


async def cmd_migrate(args: argparse.Namespace, settings: Settings) -> None:
    from bot.db import open_store  # the store is only needed here and by the bot

    try:
        async with open_store(settings.database_url.get(), migrate=False) as store:
            applied = await store.migrate()
            versions = await store.schema_versions()
    except Exception as exc:  # bad URL, unreachable server, failing migration: say which and stop
        raise CliError(f"DATABASE_URL: migration failed ({type(exc).__name__}: {exc})", EXIT_OPERATOR) from None
    names = dict(versions)
    for version in applied:
        print(f"applied V{version}__{names.get(version, '?')}.sql")
    current = versions[-1][0] if versions else 0
    print(f"schema version {current}: up to date" + ("" if applied else " (nothing to apply)"))


async def cmd_ledger(args: argparse.Namespace, settings: Settings) -> None:
    """Reconciliation (SPEC section 5): exit 1 when the ledger and the provider disagree on a job, 4 when a
    task could not be checked."""
    from bot.db import open_store  # the store is only needed here and by the bot
    from bot.jobs import utcnow
    from bot.reconcile import Verdict, parse_since, reconcile, render_text, to_csv, to_json

    try:
        since = parse_since(args.since, utcnow())
    except ValueError as exc:
        raise CliError(f"--since: {exc}", EXIT_BAD_INPUT) from None
    try:
        async with open_store(settings.database_url.get()) as store:
            entries = await store.ledger_entries(since, args.guild)
    except Exception as exc:  # bad URL, unreachable server, unreadable ledger: say which and stop
        raise CliError(f"DATABASE_URL: the ledger could not be read ({type(exc).__name__}: {exc})",
                       EXIT_OPERATOR) from None

    def announce(tasks: int) -> None:
        if tasks * 60 / settings.provider_requests_per_minute > 10:  # a wait worth explaining
            print(f"asking the provider about {tasks} tasks, at most {settings.provider_requests_per_minute} "
                  "a minute (PROVIDER_REQUESTS_PER_MINUTE)", file=sys.stderr)

    async with aiohttp.ClientSession() as session:
        try:
            report = await reconcile(entries, provider_client(session, settings), since=since, guild_id=args.guild,
                                     probe_task_id=KEY_CHECK_TASK_ID, announce=announce)
        except (OperatorError, TransientProviderError) as exc:
            raise provider_failure(exc, settings) from None
        except ProviderError as exc:
            raise CliError(f"the provider could not be asked about tasks: {exc}", EXIT_UNCERTAIN) from None
    if args.csv:
        sys.stdout.write(to_csv(report))
    else:
        print(json.dumps(to_json(report), indent=2) if args.json else "\n".join(render_text(report)))
    counts = report.counts()
    if counts[Verdict.DISAGREE]:
        jobs = counts[Verdict.DISAGREE]
        raise CliError(f"the ledger and the provider disagree on {jobs} job{'s' if jobs > 1 else ''}, listed above",
                       EXIT_TASK_FAILED)
    if counts[Verdict.NOT_CHECKED]:
        tasks = counts[Verdict.NOT_CHECKED]
        raise CliError(f"{tasks} task{'s' if tasks > 1 else ''} could not be checked with the provider: "
                       "run again later", EXIT_UNCERTAIN)


HEALTH_TIMEOUT_SECONDS = 5.0


async def cmd_health(args: argparse.Namespace, settings: Settings) -> None:
    """The container's HEALTHCHECK: the bot's own verdict (ready, job loop alive, database reachable)."""
    if not settings.metrics_port:
        raise CliError("METRICS_PORT is not set (or 0): the health check asks the bot's /healthz on it", EXIT_OPERATOR)
    host = settings.metrics_host if settings.metrics_host not in ("0.0.0.0", "::", "") else "127.0.0.1"  # noqa: S104
    url = f"http://{host}:{settings.metrics_port}/healthz"
    try:
        async with aiohttp.ClientSession() as session, session.get(
            url, timeout=aiohttp.ClientTimeout(total=HEALTH_TIMEOUT_SECONDS)
        ) as resp:
            answer = await resp.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        raise CliError(f"unhealthy: no answer from {url} ({type(exc).__name__})", EXIT_TASK_FAILED) from None
    reasons = answer.get("reasons") if isinstance(answer, dict) else None
    if resp.status != 200:
        raise CliError("unhealthy: " + "; ".join(map(str, reasons or [f"HTTP {resp.status}"])), EXIT_TASK_FAILED)
    print("healthy")


def _run_async(command: Command,
               args: argparse.Namespace, settings: Settings) -> int:
    try:
        asyncio.run(command(args, settings))
    except CliError as exc:
        print(f"error: {redact(str(exc), settings.secrets())}", file=sys.stderr)
        return exc.exit_code
    except (RequestValidationError, InputProblem) as exc:
        print(f"error: {_field_line(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    return EXIT_OK


def _field_line(exc: RequestValidationError | InputProblem) -> str:
    """Name the option the operator typed, not the JSON path inside the request."""
    field = exc.field
    if isinstance(exc, InputProblem) and exc.key == "keyframe_count":  # (the member's words name no argument)
        count, low, high = (exc.params.get(k) for k in ("count", "low", "high"))
        return f"KEY: {count} keyframe{'' if count == 1 else 's'} given after START; it takes {low} to {high}"
    option = {"images": "IMAGE", "start_image": "START", "movement_amplitude": "--movement"}.get(field)
    if option is None and field.startswith("image_settings["):
        index = int(field[len("image_settings["):field.index("]")])
        leaf = field.rsplit(".", 1)[-1]
        option = {"prompt": "--prompts", "duration": "--durations"}.get(leaf, "KEY")
        option = f"{option} (segment {index + 1})"
    message = exc.message if isinstance(exc, InputProblem) else str(exc)
    if option is None:
        option = "--" + field.replace("_", "-") if field.isidentifier() else field
    return f"{option}: {message.removeprefix(field + ': ')}"


COMMANDS: dict[str, Command] = {
    "animate": cmd_animate,
    "keyframes": cmd_keyframes,
    "task": cmd_task,
    "check": cmd_check,
    "migrate": cmd_migrate,
    "health": cmd_health,
    "ledger": cmd_ledger,
}
REQUIRED = {"run": ("DISCORD_TOKEN", "VIDU_API_KEY"), "sync": ("DISCORD_TOKEN",), "migrate": (), "health": ()}


# Options whose value may start with a dash and a digit (`--since -3d`): argparse takes such a value for an
# option and stops at a usage error; glued to its option it reaches the command, which names the problem.
_DASHED_VALUES = ("--since",)


def _glued(argv: Sequence[str]) -> list[str]:
    out: list[str] = []
    rest = iter(argv)
    for arg in rest:
        value = next(rest, None) if arg in _DASHED_VALUES else None
        if value is not None and value[:1] == "-" and value[1:2].isdecimal():
            out.append(f"{arg}={value}")
        else:
            out += [arg] if value is None else [arg, value]
    return out


def _demo(out: Path | None) -> int:
    """The demo lives beside tests/ in the repository (demo/), not in the installed packages: the bot never
    imports it. An editable install runs it from any folder."""
    checkout = Path(__file__).resolve().parents[1]
    if (checkout / "demo" / "run.py").is_file() and str(checkout) not in sys.path:
        sys.path.insert(0, str(checkout))
    try:
        from demo.run import main as run_demo
    except ImportError:
        print("error: the demo runs from a clone of the repository with the dev extra: "
              "pip install -e '.[dev]'", file=sys.stderr)
        return EXIT_OPERATOR
    return run_demo(out)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(_glued(sys.argv[1:] if argv is None else argv))
    command = args.command or "run"
    if command == "demo":  # no settings: the demo brings its own fakes and configures the bot it starts
        return _demo(args.out)
    for warning in unknown_variables():  # before a missing variable stops start-up: it may be the misspelt one
        print(warning, file=sys.stderr)
    try:
        settings = load_settings(require=REQUIRED.get(command, ("VIDU_API_KEY",)))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_OPERATOR
    configure_logging(settings.log_level if command in ("run", "sync") else "error", settings.secrets(),
                      fmt=settings.log_format)
    if command in ("run", "sync"):
        from bot.app import run_bot  # discord.py is imported only when Discord is used

        return run_bot(settings, sync_only=command == "sync")
    return _run_async(COMMANDS[command], args, settings)


if __name__ == "__main__":
    sys.exit(main())

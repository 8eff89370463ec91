"""What every subcommand shares: exit codes, the one-line error, the provider client and its failures."""

from __future__ import annotations

import aiohttp

from bot.config import Settings
from bot.provider import (
    InsufficientBalance,
    OperatorError,
    OutcomeUnknown,
    ProviderError,
    RequestRejected,
    TaskNotFound,
    TransientProviderError,
    ViduClient,
)
from bot.provider.errors import is_wrong_path

EXIT_OK = 0
EXIT_TASK_FAILED = 1  # the provider refused the request or the task failed; ledger: a disagreement
EXIT_BAD_INPUT = 2  # a file or a field is wrong (also argparse's usage errors), or a paid submit not confirmed
EXIT_OPERATOR = 3  # configuration, key, balance, budget, database
EXIT_UNCERTAIN = 4  # provider (or Discord) unreachable, or a submit whose outcome is unknown

KEY_CHECK_TASK_ID = "vidu-bot-key-check-00000000"


class CliError(Exception):
    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def provider_client(session: aiohttp.ClientSession, settings: Settings) -> ViduClient:
    from bot.wiring import provider_client as client  # lazy, like every CLI import that pulls in the job loop

    return client(settings, session, whole_rate=True)


def provider_failure(exc: ProviderError, settings: Settings) -> CliError:
    """Map a provider error to the line and exit code an operator needs."""
    if isinstance(exc, RequestRejected):
        return CliError(f"the provider refused the request: {exc.message or exc.reason}", EXIT_TASK_FAILED)
    if isinstance(exc, InsufficientBalance):
        return CliError("the provider account has no balance left (NOT_ENOUGH_BALANCE)", EXIT_OPERATOR)
    if is_wrong_path(exc):
        return CliError(f"VIDU_API_BASE: {settings.vidu_api_base} answered 404 (not found): check the path "
                        "(the task API's base ends in /v3, e.g. https://api.jiekou.ai/v3)", EXIT_OPERATOR)
    if isinstance(exc, OperatorError):
        return CliError(f"VIDU_API_KEY was refused by the provider ({exc.reason or exc.status})", EXIT_OPERATOR)
    if isinstance(exc, OutcomeUnknown):
        return CliError(
            "the submit's outcome is unknown (the connection broke after the request was sent); "
            "it was not repeated, to avoid paying twice: check your provider dashboard",
            EXIT_UNCERTAIN,
        )
    if isinstance(exc, TaskNotFound):
        return CliError("the provider does not know this task (TASK_NOT_FOUND)", EXIT_TASK_FAILED)
    if isinstance(exc, TransientProviderError):
        return CliError(f"the provider is unreachable or busy: {exc}", EXIT_UNCERTAIN)
    return CliError(f"provider error: {exc}", EXIT_TASK_FAILED)


def file_size(size: int) -> str:
    """Bytes as people read them: 3 KB, 1.4 MB (a small video is not "0.0 MB")."""
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB" if size else "0 KB"
    return f"{size / 1024 / 1024:.1f} MB"

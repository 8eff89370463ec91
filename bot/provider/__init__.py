"""The VIDU Q2 Pro task API over aiohttp. Knows nothing of Discord."""

from bot.provider.client import MAX_RETRY_AFTER_SECONDS, RetryPolicy, ViduClient, parse_retry_after
from bot.provider.errors import (
    InsufficientBalance,
    ModelNotFound,
    OperatorError,
    OutcomeUnknown,
    ProviderAuthError,
    ProviderError,
    RateLimited,
    RequestRejected,
    RequestValidationError,
    TaskNotFound,
    TransientProviderError,
    UnusableTaskId,
    VideoTooLarge,
    VideoUnavailable,
)
from bot.provider.models import (
    Img2VideoRequest,
    KeyframeSetting,
    MultiframeRequest,
    SubmitResult,
    TaskResult,
    TaskStatus,
    Video,
)
from bot.provider.ratelimit import RateLimiter

__all__ = [
    "MAX_RETRY_AFTER_SECONDS",
    "Img2VideoRequest",
    "InsufficientBalance",
    "KeyframeSetting",
    "ModelNotFound",
    "MultiframeRequest",
    "OperatorError",
    "OutcomeUnknown",
    "ProviderAuthError",
    "ProviderError",
    "RateLimited",
    "RateLimiter",
    "RequestRejected",
    "RequestValidationError",
    "RetryPolicy",
    "SubmitResult",
    "TaskNotFound",
    "TaskResult",
    "TaskStatus",
    "TransientProviderError",
    "UnusableTaskId",
    "Video",
    "VideoTooLarge",
    "VideoUnavailable",
    "ViduClient",
    "parse_retry_after",
]

"""The VIDU Q2 Pro task API over aiohttp. Knows nothing of Discord."""

from bot.provider.client import RetryPolicy, ViduClient, parse_retry_after
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
    "Video",
    "VideoTooLarge",
    "VideoUnavailable",
    "ViduClient",
    "parse_retry_after",
]

"""Rate-limit headers on every answer, and 429s tests ask for with ``fake.rate_limit_next``."""

from __future__ import annotations

import fnmatch
import hashlib
import json
import time
from dataclasses import dataclass

from aiohttp import web

LIMIT = 50


@dataclass
class ForcedLimit:
    pattern: str
    retry_after: float
    times: int
    is_global: bool


@dataclass(frozen=True)
class RateLimitHit:
    method: str
    route: str
    retry_after: float
    is_global: bool


def route_matches(pattern: str, method: str, route: str, path: str) -> bool:
    """``pattern`` as "METHOD /route/{template}" or "/route/{template}", globs allowed, or a concrete path."""
    candidates = [route, path, f"{method} {route}", f"{method} {path}"]
    return any(fnmatch.fnmatchcase(c, pattern) for c in candidates)


def bucket_headers(route: str, method: str) -> dict[str, str]:
    bucket = hashlib.sha1(f"{method} {route}".encode()).hexdigest()[:16]  # noqa: S324 - an id, not security
    return {
        "X-RateLimit-Limit": str(LIMIT),
        "X-RateLimit-Remaining": str(LIMIT - 1),
        "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
        "X-RateLimit-Reset-After": "1.000",
        "X-RateLimit-Bucket": bucket,
    }


def too_many_requests(route: str, method: str, limit: ForcedLimit) -> web.Response:
    headers = bucket_headers(route, method)
    headers.update(
        {
            "Content-Type": "application/json",
            "Retry-After": str(max(1, round(limit.retry_after))),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset-After": f"{limit.retry_after:.3f}",
            "X-RateLimit-Scope": "global" if limit.is_global else "user",
            # discord.py retries a 429 only when it came through Discord's proxy (a Via header);
            # a 429 without it is treated as a Cloudflare ban.
            "Via": "1.1 google",
        }
    )
    if limit.is_global:
        headers["X-RateLimit-Global"] = "true"
    body = {"message": "You are being rate limited.", "retry_after": limit.retry_after, "global": limit.is_global}
    return web.Response(status=429, body=json.dumps(body).encode(), headers=headers)

"""The provider client and the job loop's settings, built from Settings in one place for the bot and the CLI."""

from __future__ import annotations

from datetime import timedelta

import aiohttp

from bot import metrics
from bot.config import Settings
from bot.jobs.steps import WorkerSettings
from bot.provider import RateLimiter, RetryPolicy, ViduClient


def provider_client(settings: Settings, session: aiohttp.ClientSession, *, whole_rate: bool = False) -> ViduClient:
    """The bot takes its process's share of PROVIDER_REQUESTS_PER_MINUTE (processes splitting the shards stay
    under the limit together); a one-off CLI command takes the whole rate (`whole_rate=True`)."""
    rate = settings.provider_requests_per_minute if whole_rate else settings.provider_rate_of_this_process()
    return ViduClient(
        session, base_url=settings.vidu_api_base, api_key=settings.vidu_api_key.get(),
        limiter=RateLimiter(rate),
        timeout=settings.provider_timeout_seconds,
        retry=RetryPolicy(max_attempts=settings.provider_max_attempts),
        observe=metrics.observe_provider_call,
    )


def worker_settings(settings: Settings) -> WorkerSettings:
    return WorkerSettings(
        max_active_per_member=settings.max_active_jobs_per_member,
        provider_max_in_flight=settings.provider_max_in_flight,
        poll_first_seconds=settings.poll_first_seconds,
        poll_max_seconds=settings.poll_max_seconds,
        poll_concurrency=settings.poll_concurrency,
        provider_pause_probe_seconds=settings.provider_pause_probe_seconds,
        job_timeout=timedelta(minutes=settings.job_timeout_minutes),
        off_peak_timeout=timedelta(hours=settings.off_peak_timeout_hours),
        give_up_after=timedelta(hours=settings.job_give_up_hours),
        delivery_give_up=timedelta(hours=settings.delivery_give_up_hours),
        delivery_max_attempts=settings.delivery_max_attempts,
        video_max_bytes=settings.video_max_bytes,
        video_download_timeout=settings.video_download_timeout_seconds,
        input_retention=timedelta(hours=settings.input_retention_hours),
        lease_seconds=settings.job_lease_seconds,
        # Holding every shard, this process is the only one: leases it finds are its own, left by a crash,
        # and it resumes those jobs at once instead of waiting them out.
        sole_worker=settings.shard_ids is None,
    )

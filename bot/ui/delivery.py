"""The Discord side of the job loop: edit status cards, post the finished video exactly once.

Everything here uses the bot token (channel messages), never an interaction token: a job may finish
long after the 15 minutes an interaction token lives.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import discord
from discord.utils import MISSING

from bot.i18n import t
from bot.jobs.deliver import Undeliverable
from bot.jobs.models import Job
from bot.jobs.pause import pause_note
from bot.jobs.queue_place import queue_place
from bot.jobs.states import JobState
from bot.jobs.steps import is_late
from bot.logs import job_ids
from bot.media.video import fit_video
from bot.safety import VideoScreening, plan_video_screening
from bot.safety.automod import KeywordRule, Where
from bot.ui.automod import AutoModRules, where_of
from bot.ui.cards import edit_card, message_text, upload_limit, video_card
from bot.ui.fit import clip
from bot.ui.review import post_for_review
from bot.ui.screening import age_restricted, usable_screens
from bot.ui.status import late_text, marker, status_text
from bot.ui.video_actions import job_status_card, status_view, video_buttons

if TYPE_CHECKING:
    from bot.jobs.store import JobStore

log = logging.getLogger("bot.delivery")

# How far back a restarted bot looks in a thread for a video it may already have posted.
MARKER_LOOKBACK_MESSAGES = 50
MB = 1024 * 1024
# Final states without a video: the member is pinged (a cancelled job was the member's own doing).
ENDED_WITHOUT_VIDEO = frozenset({JobState.REJECTED, JobState.FAILED, JobState.EXPIRED, JobState.SUBMIT_UNKNOWN})
UPLOAD_HEADROOM = 256 * 1024  # the multipart envelope and the message itself count too


def delivery_nonce(job: Job) -> str:
    """Deterministic (Discord keeps at most 25 characters): a retried post of the same job is one message."""
    return f"vidu-{job.id}"


class DiscordJobListener:
    def __init__(self, client: discord.Client, store: JobStore, *, max_active: int, provider_cap: int | None,
                 screens: tuple[str, ...] = (), automod: AutoModRules | None = None) -> None:
        self._client = client
        self._store = store
        self._max_active = max_active  # the operator's default; a server may set its own
        self._provider_cap = provider_cap
        self._screens = screens  # SAFETY_SCREENS: finished videos go through those installed
        self._automod = automod or AutoModRules()  # the servers' AutoMod rules, kept current (bot/ui/automod.py)

    async def _channel(self, channel_id: int) -> discord.abc.Messageable:
        channel = self._client.get_channel(channel_id) or await self._client.fetch_channel(channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            raise TypeError(f"channel {channel_id} cannot hold messages")
        return channel

    async def job_changed(self, job: Job) -> None:
        if job.thread_id is None:
            return
        if job.state in ENDED_WITHOUT_VIDEO:
            await self._tell_requester(job, status_text(job))
        if job.status_message_id is None:  # its card could not be posted: the ping above is what they get
            return
        place, pause = None, None
        if job.state == "accepted":
            own = await self._store.guild_settings(job.guild_id)
            place = await queue_place(self._store, job, max_active=own.active_limit(self._max_active),
                                      provider_cap=self._provider_cap)
            pause = await pause_note(self._store, job.guild_id)  # submits paused: the card says why
        try:
            channel = await self._channel(job.thread_id)
            text = status_text(job, place=place, pause=pause)
            card = channel.get_partial_message(job.status_message_id)  # type: ignore[attr-defined]
            await edit_card(card.edit, job_status_card(job, text), text, status_view(job))
        except (discord.NotFound, discord.Forbidden) as exc:  # the thread or card is gone: nothing to show
            log.warning("job %s: its status card cannot be edited (%s %s)", job.id, exc.status, exc.code)

    async def fresh_attachment_url(self, url: str) -> str | None:
        """Discord's `POST /attachments/refresh-urls` (discord.py has no call for it): a CDN link re-signed
        for another day, as long as its message exists."""
        route = discord.http.Route("POST", "/attachments/refresh-urls")
        try:
            answer = await self._client.http.request(route, json={"attachment_urls": [url]})
            refreshed = {item["original"]: item["refreshed"] for item in answer["refreshed_urls"]}
        except (TimeoutError, discord.HTTPException, OSError, KeyError, TypeError):
            log.warning("could not refresh an attachment link", exc_info=True)
            return None
        fresh = refreshed.get(url)
        return fresh if isinstance(fresh, str) and fresh.startswith(("https://", "http://")) else None

    async def tell_moderators(self, guild_id: int, text: str) -> None:
        try:
            settings = await self._store.guild_settings(guild_id)
            if settings.modlog_channel_id is None:
                return
            channel = await self._channel(settings.modlog_channel_id)
            if getattr(getattr(channel, "guild", None), "id", None) != guild_id:
                return  # never write into another server's channel
            await channel.send(content=clip(text), allowed_mentions=discord.AllowedMentions.none())
        except Exception:  # a mod-log that cannot be written must not stop the job loop
            log.warning("guild %s: could not write to the mod-log channel", guild_id, exc_info=True)

    async def video_screening(self, job: Job) -> VideoScreening:
        """The server's video policy where the video will be posted: its thread (a thread follows its parent's
        age restriction), else the channel it was asked in; a place that cannot be read counts as not
        age-restricted (screened: the safe side)."""
        settings = await self._store.guild_settings(job.guild_id)
        restricted = False
        for place in (job.thread_id, job.channel_id):
            if place is None:
                continue
            try:
                restricted = age_restricted(await self._channel(place))
                break
            except (discord.NotFound, discord.Forbidden, TypeError):
                continue
        usable, _ = usable_screens(self._screens)
        return plan_video_screening(settings.safety_videos, settings.safety_flagged_videos, age_restricted=restricted,
                                    usable=usable, can_hold=settings.modlog_channel_id is not None)

    async def hold_video(self, job: Job, video: Path) -> bool:
        """The mod-log gets the flagged video with Approve / Remove (bot/ui/review.py), then the member is told
        it waits for a moderator (once: a deterministic nonce). False when the server has no mod-log the bot can
        post in; other errors are tried again later."""
        settings = await self._store.guild_settings(job.guild_id)
        if settings.modlog_channel_id is None:
            return False
        try:
            modlog = await self._channel(settings.modlog_channel_id)
            if getattr(getattr(modlog, "guild", None), "id", None) != job.guild_id:
                return False  # never into another server's channel
            await post_for_review(modlog, self._client.user, job, video)
        except (discord.NotFound, discord.Forbidden) as exc:
            log.warning("job %s: the mod-log cannot take the held video (%s %s)", job.id, exc.status, exc.code,
                        extra=job_ids(job))
            return False
        if job.thread_id is not None:
            await self._tell_requester(job, status_text(job), nonce=f"vidu-held-{job.id}")
        return True
    async def automod_rules(self, guild_id: int) -> Sequence[KeywordRule]:
        guild = self._client.get_guild(guild_id)
        try:
            return (await self._automod.rules_for(guild) or ()) if guild is not None else ()
        except (discord.HTTPException, OSError, TimeoutError) as exc:  # Discord away: checked at admission
            log.warning("guild %s: AutoMod rules could not be read (%s)", guild_id, exc)
            return ()

    async def automod_where(self, job: Job) -> Where | None:
        guild = self._client.get_guild(job.guild_id)
        if guild is None:
            return None
        try:
            member: discord.abc.User | None = guild.get_member(job.user_id) or await guild.fetch_member(job.user_id)
        except discord.NotFound:
            member = None  # gone from the server: no role exempts them any more
        except (discord.HTTPException, OSError, TimeoutError) as exc:
            log.warning("job %s: its member's roles could not be read (%s); AutoMod not checked again", job.id, exc)
            return None
        channel = guild.get_channel_or_thread(job.channel_id) or guild.get_channel_or_thread(job.thread_id or 0)
        return where_of(member, channel or discord.Object(job.channel_id))

    async def job_late(self, job: Job) -> None:
        await self._tell_requester(job, late_text(job), nonce=f"vidu-late-{job.id}")

    async def _tell_requester(self, job: Job, text: str, *, nonce: str | None = None) -> None:
        """An edited card notifies nobody: a job that ends without a video (or runs late) also gets a new
        message that mentions its requester (once: a deterministic nonce), with the reason and Try again.
        Sending it also reopens a thread that archived while the job ran, so the card's edit after it goes
        through. With the thread gone, a public job's requester is told in the channel they asked in, as
        its video would be."""
        assert job.thread_id is not None
        content = f"<@{job.user_id}> {text}"
        places = [(job.thread_id, content)]
        if (elsewhere := _fallback(job)) is not None:
            places.append((elsewhere[0], f"{content}\n{elsewhere[1]}"))
        for place, message in places:
            try:
                channel = await self._channel(place)
                await channel.send(view=job_status_card(job, message), nonce=nonce or f"vidu-end-{job.id}",
                                   allowed_mentions=_only_requester(job))
                return
            except (discord.NotFound, discord.Forbidden) as exc:
                log.warning("job %s: could not tell its requester it ended in %s (%s %s)", job.id, place,
                            exc.status, exc.code)

    async def deliver(self, job: Job, video: Path, *, spoiler: bool = False) -> int:
        """In the job's thread; if the thread was deleted or closed to the bot meanwhile, in the channel the
        member asked in (never for a private job: that would make it public). `spoiler`: a screen flagged it and
        the server posts such videos behind a spoiler, with a note saying why."""
        if job.thread_id is None:
            raise ValueError(f"job {job.id} has no thread to deliver to")
        try:
            return await self._post_video(await self._channel(job.thread_id), job, video, spoiler=spoiler)
        except (discord.NotFound, discord.Forbidden) as exc:
            closed = f"thread {job.thread_id}: {exc.status} {exc.code}"
        elsewhere = _fallback(job)
        if elsewhere is None:
            raise Undeliverable(f"{closed}; no other place for it")
        log.warning("job %s: posting in the channel it was asked in (%s)", job.id, closed, extra=job_ids(job))
        try:
            posted = await self._post_video(await self._channel(elsewhere[0]), job, video, note=elsewhere[1],
                                            spoiler=spoiler)
        except (discord.NotFound, discord.Forbidden) as exc:
            raise Undeliverable(f"{closed}; channel {job.channel_id}: {exc.status} {exc.code}") from None
        # The job lives there now: /jobs links to the video, and a retry after a crash looks there first.
        await self._store.set_message_ids(job.id, thread_id=job.channel_id)
        return posted

    async def _post_video(self, channel: discord.abc.Messageable, job: Job, video: Path, note: str = "", *,
                          spoiler: bool = False) -> int:
        """Post the video here, once: a video posted before a crash is found again (by its marker)."""
        already = await self._find_posted(channel, job)
        if already is not None:
            log.info("job %s: video already posted as %s, not posting again", job.id, already)
            return already
        size = (await asyncio.to_thread(video.stat)).st_size
        limit = upload_limit(getattr(channel, "guild", None), job.upload_limit)
        content = t("delivery.ready", job.locale, mention=f"<@{job.user_id}>", marker=marker(job))
        if is_late(job) and job.submitted_at and job.succeeded_at:
            content += "\n" + t("delivery.late", job.locale, duration=_hours(job.succeeded_at - job.submitted_at,
                                                                                   job.locale))
        if spoiler:
            content += "\n" + t("delivery.spoiler_note", job.locale)
        if note:
            content += "\n" + note
        upload: Path | None = video
        if size > limit:
            # Too big for this server: a smaller copy to watch here, and the full one by the provider's link.
            upload = await fit_video(video, video.with_suffix(".fit.mp4"), limit - UPLOAD_HEADROOM)
            expires = (t("delivery.valid_until", job.locale, when=f"<t:{int(job.video_expires_at.timestamp())}:f>")
                       if job.video_expires_at else "")
            content += "\n" + t("delivery.full_quality", job.locale, size=_megabytes(size),
                                 limit=_megabytes(limit), url=job.video_url, expires=expires)
            if upload is None:
                content += "\n" + t("delivery.no_preview", job.locale)
        try:
            # vidscreen's spoiler for a flagged video, or the member's own choice (the job's spoiler option)
            file = discord.File(upload, filename=f"{job.id}.mp4", spoiler=spoiler or job.spoiler) if upload else None
            message = await channel.send(
                view=video_card(job, content, file, video_buttons(job)), file=file or MISSING,
                nonce=delivery_nonce(job), allowed_mentions=_only_requester(job),
            )
        finally:
            if upload is not None and upload != video:
                await asyncio.to_thread(upload.unlink, True)
        return message.id

    async def _find_posted(self, thread: discord.abc.Messageable, job: Job) -> int | None:
        """After a crash between posting and recording it, the video is already in the thread."""
        me = self._client.user
        # The job's language never changes, so the line it was posted with is known exactly.
        needle = t("delivery.ready", job.locale, mention="", marker=marker(job)).strip()
        async for message in thread.history(limit=MARKER_LOOKBACK_MESSAGES):
            if me is not None and message.author.id == me.id and needle in message_text(message):
                return message.id
        return None


def _hours(elapsed: timedelta, locale: str) -> str:
    minutes = round(elapsed.total_seconds() / 60)
    if minutes < 90:
        return t("status.minutes", locale, minutes=minutes)
    return t("status.hours", locale, hours=f"{minutes / 60:.1f}")


def _megabytes(size: int) -> str:
    """12 MB, 2.5 MB: a decimal only where a whole number would hide the difference."""
    return f"{size / MB:.0f}" if size >= 10 * MB else f"{size / MB:.1f}".removesuffix(".0")


def _only_requester(job: Job) -> discord.AllowedMentions:
    return discord.AllowedMentions(users=[discord.Object(job.user_id)], roles=False, everyone=False)


def _fallback(job: Job) -> tuple[int, str] | None:
    """Where a job's messages go when its thread is gone or closed to the bot, with the note saying so: the
    channel the member asked in; nowhere for a private job (that would make it public) or one asked in
    the thread itself."""
    if job.private or job.channel_id == job.thread_id:
        return None
    return job.channel_id, t("delivery.thread_closed", job.locale, thread=f"<#{job.thread_id}>")

"""From a member's interaction to a stored job: read attachments, check them, open the thread, post cards.

Shared by every generating command, so each one acknowledges, checks and answers the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal, Protocol

import discord

from bot import admission, metrics
from bot.admission import Admission, Ask, ServerAutoMod
from bot.i18n import DEFAULT_LOCALE, locale_of, t
from bot.i18n.formats import estimate, join
from bot.i18n.images import image_problem_text
from bot.jobs.models import Job, JobInput, JobKind
from bot.jobs.pause import pause_note
from bot.jobs.queue_place import queue_place
from bot.logs import job_ids
from bot.media import ImageLimits, PreparedImage, prepare_images
from bot.media.encode import data_uri
from bot.media.pair import HIGH_RATIO, LOW_RATIO, Fitted, fit_pair
from bot.media.pool import WorkerLost, image_pool
from bot.member_settings import MemberSettings, choose, keyframe_rules
from bot.moderation import MAX_PATTERN, BlockedTerm
from bot.params import Img2VideoParams, JobParams, MultiframeParams, StartEndParams
from bot.pricing import price_table
from bot.provider import RequestValidationError
from bot.quotas import QueueFull, QuotaExceeded, TooSoon
from bot.requests import InputProblem, image_budget, provider_request, segment_params
from bot.safety import Screening
from bot.safety.automod import KeywordRule
from bot.ui.automod import where_of
from bot.ui.buttons import queue_buttons
from bot.ui.cards import picture_descriptions, request_card, status_card, upload_limit
from bot.ui.discord_retry import retrying_unavailable
from bot.ui.fit import THREAD_NAME_LIMIT, quote
from bot.ui.flagged import refuse_flagged
from bot.ui.permissions import missing_permissions, missing_permissions_text, opens_private_thread_beside
from bot.ui.replies import JOB_STARTED, Refused
from bot.ui.screening import screen_images
from bot.ui.status import status_text
from bot.ui.text import request_lines

if TYPE_CHECKING:
    from bot.ui.client import ServiceBot

log = logging.getLogger("bot.intake")
MB = 1024 * 1024
# The card's prompts, escaped, share what a message holds after its other lines (the full prompts stay with
# the job); the storyboard preview, a 2000-character message, shows them within the same budget.
CARD_PROMPT_BUDGET = 1500
# An AutoMod rule's name (Discord: up to 100 characters) and its message for members (up to 150), escaped.
AUTOMOD_NAME, AUTOMOD_MESSAGE = 220, 320


class CheckedImage(Protocol):
    """An image that passed the pipeline: fresh from a member (PreparedImage) or stored (JobInput)."""

    @property
    def filename(self) -> str: ...

    @property
    def data(self) -> bytes: ...

    @property
    def mime_type(self) -> str: ...


@dataclass(frozen=True)
class Intake:
    kind: JobKind
    params: JobParams
    resolution: str
    duration_seconds: int
    private: bool
    title: str  # the thread's name: the prompt, shortened
    spoiler: bool = False  # the request card's pictures and the video behind a spoiler (the member asked)
    # Lines for the request card under its settings, in the member's language: which values came from their
    # /settings (and a default that did not fit), or that this is a Remix.
    notes: tuple[str, ...] = ()
    # A start-end request's picture rescaled so the two fit the endpoint's pixel ratio (fit_pictures): the card
    # says so.
    fitted: Fitted | None = None


def keyframes_intake(params: MultiframeParams | StartEndParams, private: bool, locale: str,
                     notes: tuple[str, ...] = (), spoiler: bool = False) -> Intake:
    """The intake of a start picture and keyframes (bot.requests.keyframes_params): kind, length, title."""
    title = next((p for p in params.prompts if p), None) or (
        t("title.startend", locale) if isinstance(params, StartEndParams)
        # The keyframes, as /help counts them (the start picture is not one): one per segment.
        else t("title.keyframes", locale, count=len(params.prompts)))
    return Intake(JobKind(params.KIND), params, params.resolution, sum(params.durations), private, title,
                  spoiler=spoiler, notes=notes)


def keyframes_with_defaults(mine: MemberSettings, prompts: Sequence[str | None], typed_durations: Sequence[int] | None,
                            *, resolution: str | None, movement: str | None, private: bool | None, locale: str,
                            watermark: bool = False, spoiler: bool = False) -> Intake:
    """A start picture and one prompt per keyframe: what the member left out (None) comes from their /settings
    where this kind takes it (one keyframe: start-end, more: multiframe), and the card says which. A movement
    given with more than one keyframe is refused (bot.requests.segment_params), not dropped."""
    rules = keyframe_rules(len(prompts))
    c = choose(rules, mine, locale=locale, given={
        "resolution": resolution, "duration": typed_durations[0] if typed_durations else None,
        "movement": movement, "private": private})
    durations = list(typed_durations) if typed_durations else [c.duration] * len(prompts)
    params = segment_params(prompts, durations, resolution=c.resolution,
                            movement=c.movement if rules.movements else movement, watermark=watermark)
    return keyframes_intake(params, c.private, locale, notes=c.notes(), spoiler=spoiler)


def could_be_a_picture(content_type: str | None) -> bool:
    """From Discord's metadata: a type that cannot be an image (video/mp4, application/pdf ...). Unknown, or
    application/octet-stream (a file without extension), could still be one: the image checks decide."""
    if not content_type:
        return True
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind.startswith("image/") or kind == "application/octet-stream"


def file_kind(content_type: str | None) -> Literal["video", "audio", "other", "unknown"]:
    """What a file that is not a picture is, in words a member knows ("intake.kind.*"), not its MIME type."""
    major = (content_type or "").split("/", 1)[0].strip().lower()
    if major in ("video", "audio"):
        return "video" if major == "video" else "audio"
    return "other" if major else "unknown"


async def read_attachments(
    attachments: Sequence[discord.Attachment], *, max_bytes: int, read_timeout: float,
    locale: str = DEFAULT_LOCALE,
) -> tuple[list[tuple[str, bytes]], list[str]]:
    """Read every attachment's bytes now (CDN links expire), bounded in size and time. What Discord's
    metadata already refuses (too big, a video or a document) is never downloaded."""
    files: list[tuple[str, bytes]] = []
    problems: list[str] = []
    for attachment in attachments:
        if attachment.size > max_bytes:
            problems.append(t("intake.too_big", locale, filename=attachment.filename,
                              size=f"{attachment.size / MB:.1f}", limit=f"{max_bytes / MB:.0f}"))
            continue
        if not could_be_a_picture(attachment.content_type):
            problems.append(t("intake.not_a_picture", locale, filename=attachment.filename,
                              kind=t(f"intake.kind.{file_kind(attachment.content_type)}", locale)))
            continue
        try:
            data = await asyncio.wait_for(attachment.read(), read_timeout)
        except TimeoutError:
            problems.append(t("intake.read_timeout", locale, filename=attachment.filename))
            continue
        except discord.HTTPException:
            problems.append(t("intake.download_failed", locale, filename=attachment.filename))
            continue
        files.append((attachment.filename, data))
    return files, problems


# A week, Discord's longest: an off-peak job may take 48 hours, and an archived thread's status card can
# no longer be edited (the channel's default, often a day, would hide its "Done" or "Failed").
THREAD_ARCHIVE_MINUTES: Literal[10080] = 10080

# Requests whose pictures are read and checked at the same time, across all members. A burst of commands
# would otherwise hold every attachment in memory at once (50 requests x ten 5 MB pictures: ~3 GB) and
# keep the event loop busy copying them; the others wait, already acknowledged, in arrival order.
INTAKE_CONCURRENCY = 2
_intake_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def _intake_gate() -> asyncio.Semaphore:
    """One gate per event loop (a semaphore belongs to the loop it first waited on)."""
    loop = asyncio.get_running_loop()
    gate = _intake_gates.get(loop)
    if gate is None:
        gate = _intake_gates[loop] = asyncio.Semaphore(INTAKE_CONCURRENCY)
    return gate


async def check_images(bot: ServiceBot, attachments: Sequence[discord.Attachment],
                       locale: str = DEFAULT_LOCALE, *, resolution: str | None = None,
                       screening: Screening) -> list[PreparedImage]:
    """Read and check every image, then screen it as `screening` says (bot/ui/screening.py: every caller
    decides, none may forget); raise Refused listing every problem of every file (in `locale`).
    With the video's `resolution`, larger pictures are scaled down to what that video can use."""
    async with _intake_gate():
        return await _check_images(bot, attachments, locale, resolution, screening)


async def _check_images(bot: ServiceBot, attachments: Sequence[discord.Attachment],
                        locale: str, resolution: str | None, screening: Screening) -> list[PreparedImage]:
    settings = bot.settings
    files, problems = await read_attachments(
        attachments, max_bytes=settings.image_max_bytes,
        read_timeout=settings.attachment_read_timeout_seconds, locale=locale,
    )
    limits = ImageLimits(
        max_bytes=settings.image_max_bytes, max_pixels=settings.image_max_pixels,
        data_uri_budget=image_budget(settings.image_data_uri_budget, len(attachments)),
        video_resolution=resolution,
    )
    # In a worker process: Pillow's GIL time would otherwise stall this loop (bot.media.pool).
    prepared, image_problems = await prepare_images(files, limits, prepare=image_pool().prepare)
    problems += [image_problem_text(p, locale) for p in image_problems]
    # The pictures as they would go to the provider and onto the card: in the same workers, off the loop.
    problems += await screen_images(prepared, screening, locale)
    if problems:
        raise Refused.listing(problems, locale)
    return prepared


async def fit_pictures(bot: ServiceBot, intake: Intake, images: list[PreparedImage],
                       locale: str = DEFAULT_LOCALE) -> tuple[Intake, list[PreparedImage]]:
    """A start-end request's two pictures made to fit the endpoint's pixel ratio (bot/media/pair.py), in an
    image worker; the intake then remembers what was changed, for the card. Other requests pass unchanged."""
    if not isinstance(intake.params, StartEndParams) or len(images) != 2:
        return intake, images
    budget = image_budget(bot.settings.image_data_uri_budget, len(images))
    try:
        start, end, fitted = await image_pool().run(fit_pair, images[0], images[1], budget)
    except WorkerLost:
        raise Refused.listing([t("image_detail.worker_lost", locale)], locale) from None
    return replace(intake, fitted=fitted), [start, end]


def validate_request(intake: Intake, images: Sequence[CheckedImage], locale: str = DEFAULT_LOCALE) -> None:
    """Build the provider request once, as the worker will, so a bad field is refused now.

    The pictures stand in as one-byte data URIs of their own type: they were checked and sized by the
    image pipeline already, and encoding megabytes of base64 here (again at submit) only held the GIL."""
    stand_ins = [data_uri(i.mime_type, b"\0") for i in images]
    try:
        provider_request(intake.params, stand_ins)
    except InputProblem as problem:
        raise Refused.listing([problem.text(locale)], locale) from None
    except RequestValidationError as exc:  # the provider's own limits: English (named fields), rarely reached
        raise Refused.listing([str(exc)], locale) from None


async def admit(bot: ServiceBot, interaction: discord.Interaction[Any], intake: Intake) -> Admission:
    """May this member ask for this here, now? What only Discord knows first (the bot's permissions here, a
    private request in a forum post), then the server's rules (bot/admission.py), each refusal in the
    member's language. Runs before any attachment is read."""
    assert interaction.guild_id is not None  # commands are guild-only
    locale = locale_of(interaction)
    missing = missing_permissions(interaction, private=intake.private)
    if missing:
        raise Refused(missing_permissions_text(missing, locale))
    channel = interaction.channel
    if isinstance(channel, discord.Thread) and opens_private_thread_beside(channel, private=intake.private):
        await _parent_for_private(interaction, channel, locale)  # a forum post: refused before any download
    ask = Ask(
        guild_id=interaction.guild_id, user_id=interaction.user.id,
        role_ids=[role.id for role in getattr(interaction.user, "roles", [])],
        # A thread counts as its channel for the server's channel list.
        channel_ids=[i for i in (getattr(channel, "id", None), getattr(channel, "parent_id", None)) if i],
        kind=intake.kind.value, resolution=intake.resolution, seconds=intake.duration_seconds,
        prompts=intake.params.prompts, automod=await server_automod(bot, interaction),
    )
    try:
        return await admission.admit(bot.store, bot.settings, ask)
    except admission.REFUSALS as refusal:
        raise Refused(refusal_text(refusal, locale)) from None


async def server_automod(bot: ServiceBot, interaction: discord.Interaction[Any]) -> ServerAutoMod | None:
    """The server's AutoMod keyword rules as they apply to this member here; None when the bot cannot read them
    (it lacks Manage Server: /config show says so)."""
    rules = await bot.automod.rules_for(interaction.guild) if interaction.guild is not None else None
    return None if rules is None else ServerAutoMod(rules, where_of(interaction.user, interaction.channel))


def refusal_text(refusal: Exception, locale: str) -> str:
    """A rule's refusal (bot/admission.py, or create_job's own at the same instant) in the member's words."""
    if isinstance(refusal, admission.StrikePaused | admission.FlaggedPrompt):  # content strikes: they word themselves
        return refusal.text(locale)
    if isinstance(refusal, QuotaExceeded):
        metrics.quota_refused()
        return refusal.message(locale)
    if isinstance(refusal, TooSoon | QueueFull):
        return pace_refusal(refusal, locale)
    if isinstance(refusal, admission.ChannelNotAllowed):
        return t("refuse.channels", locale, channels=join([f"<#{c}>" for c in refusal.allowed], locale))
    if isinstance(refusal, admission.Blocklisted):
        return t("refuse.blocklisted", locale, term=term_text(refusal.term))
    if isinstance(refusal, admission.AutoModRefused):
        return automod_refusal(refusal.rule, locale)
    assert isinstance(refusal, admission.Blocked), refusal
    return t("refuse.blocked", locale)


def automod_refusal(rule: KeywordRule, locale: str) -> str:
    """The rule by its name, and its own message for members when it has one; never the words it matched."""
    text = t("refuse.automod", locale, rule=quote(rule.name, AUTOMOD_NAME))
    if rule.custom_message:
        text += "\n" + t("refuse.automod_message", locale, message=quote(rule.custom_message, AUTOMOD_MESSAGE))
    return text


def term_text(term: BlockedTerm) -> str:
    """A blocklist term as members and moderators read it: its * and _ are the pattern's, not formatting."""
    return quote(term.shown(), 2 * MAX_PATTERN + 4)


def pace_refusal(refusal: TooSoon | QueueFull, locale: str) -> str:
    if isinstance(refusal, QueueFull):
        return t("refuse.queue_full", locale, queued=refusal.queued, limit=refusal.limit)
    return t("refuse.cooldown", locale, seconds=refusal.cooldown_seconds,
             when=f"<t:{int(time.time() + refusal.wait_seconds) + 1}:R>")


async def start_job(
    bot: ServiceBot, interaction: discord.Interaction[Any], intake: Intake, images: Sequence[CheckedImage],
    *, screening: Screening, parent_job_id: str | None = None, admission: Admission | None = None,
) -> Job:
    """Admit the request (unless the caller did, before reading any picture), open (or reuse) the thread,
    post the request card, store the job with its quota reservation, post its status card. The card shows
    the pictures only when `screening` ran a screen on them (which passed them: a flagged one never gets here);
    unscreened, they are never shown publicly (README "Safety")."""
    assert interaction.guild_id is not None  # commands are guild-only
    admission = admission or await admit(bot, interaction, intake)
    locale = locale_of(interaction)
    await refuse_flagged(bot.store, intake.params.prompts, images, locale)  # issue 25 item 6: before any re-post
    thread = await _open_thread(interaction, intake, locale)
    server = await bot.store.guild_settings(interaction.guild_id)
    # The server's watermark goes on its multiframe and start-end videos (bot/jobs/submit.py adds it at submit).
    marked = server.watermark_url and not isinstance(intake.params, Img2VideoParams)
    mark = server.watermark_position if marked else None
    asked_limit = _interaction_upload_limit(interaction)
    card = await retrying_unavailable("posting the request card", lambda: _post_request_card(  # fresh files each try
        thread, interaction.user, intake, images, locale, server_mark=mark,
        limit=upload_limit(thread.guild, asked_limit), shown=screening.screened))
    try:
        job = await bot.store.create_job(
            Job.new(
                guild_id=interaction.guild_id, channel_id=interaction.channel_id or thread.id,
                user_id=interaction.user.id, kind=intake.kind, params=intake.params,
                resolution=intake.resolution, duration_seconds=intake.duration_seconds,
                locale=locale, private=intake.private, thread_id=thread.id,
                parent_job_id=parent_job_id, upload_limit=asked_limit, now=bot.store.now(),
                spoiler=intake.spoiler,
            ),
            [JobInput(n, i.filename, i.mime_type, i.data) for n, i in enumerate(images)],
            charge=admission.charge, checks=admission.checks, pace=admission.pace,
        )
    except (QuotaExceeded, TooSoon, QueueFull) as refused:  # another request came first, at the same instant
        reason = refusal_text(refused, locale)
        await thread.send(t("refuse.not_started", locale, reason=reason),
                          allowed_mentions=discord.AllowedMentions.none())
        raise Refused(reason) from None
    except Exception:
        # The database failed: no job, no charge. Say so under the request card (which would otherwise wait
        # forever), then let the command's error handler give the member an error id.
        with contextlib.suppress(discord.HTTPException):
            await thread.send(t("refuse.not_started", locale, reason=t("refuse.not_stored", locale)),
                              allowed_mentions=discord.AllowedMentions.none())
        raise
    # From here the job exists, holds its reservation and will go ahead: a hiccup below must never be told
    # as a failure to retry (that would pay twice). The error handler reads this to say so (replies.py).
    interaction.extras[JOB_STARTED] = job.id
    try:
        pause = await pause_note(bot.store, job.guild_id)  # submits paused: the card says why from the start
        place = await queue_place(bot.store, job, max_active=admission.max_active,
                                  provider_cap=bot.settings.provider_max_in_flight)
        status = await thread.send(view=status_card(job, status_text(job, place=place, pause=pause),
                                                    queue_buttons(job)))
        job = await bot.store.set_message_ids(job.id, card_message_id=card.id, status_message_id=status.id) or job
    except Exception:
        # No status card: the job still runs, is delivered in the thread, and its end pings the member.
        log.exception("job %s: its status card could not be posted; the job goes ahead", job.id, extra=job_ids(job))
    # The record of every prompt: requester, job id and the prompts themselves (also kept with the job).
    log.info("job %s: accepted from user %s in guild %s; prompts: %s", job.id, job.user_id, job.guild_id,
             " | ".join(p or "-" for p in _prompts(intake)), extra=job_ids(job))
    bot.worker.wake()
    return job


def _prompts(intake: Intake) -> list[str | None]:
    return list(intake.params.prompts)


async def _open_thread(interaction: discord.Interaction[Any], intake: Intake, locale: str) -> discord.Thread:
    channel = interaction.channel
    if isinstance(channel, discord.Thread):
        if not opens_private_thread_beside(channel, private=intake.private):
            return channel  # a thread or a forum post: answer right there (a private one for a private request)
        # A private request in a public thread: its card, prompt and pictures go to a private thread of its own
        # beside it, never into the thread everyone reads.
        channel = await _parent_for_private(interaction, channel, locale)
    if not isinstance(channel, discord.TextChannel):
        raise Refused(t("refuse.channel_type", locale))
    name = quote(intake.title, THREAD_NAME_LIMIT, markdown=False) or t("thread.default_name", locale)
    text_channel = channel
    if intake.private:
        thread = await retrying_unavailable("opening a private thread", lambda: text_channel.create_thread(
            name=name, type=discord.ChannelType.private_thread, invitable=False,
            auto_archive_duration=THREAD_ARCHIVE_MINUTES))
        await retrying_unavailable("adding the member to the thread", lambda: thread.add_user(interaction.user))
        return thread
    starter = await retrying_unavailable("posting the thread's starter", lambda: text_channel.send(
        t("thread.starter", locale, mention=interaction.user.mention, name=discord.utils.escape_markdown(name)),
        allowed_mentions=discord.AllowedMentions.none(),
    ))
    return await retrying_unavailable("opening the thread", lambda: starter.create_thread(
        name=name, auto_archive_duration=THREAD_ARCHIVE_MINUTES))


async def _parent_for_private(interaction: discord.Interaction[Any], thread: discord.Thread,
                              locale: str) -> discord.TextChannel:
    """Where a private request made in `thread` gets its own private thread: the parent text channel."""
    parent = thread.parent or await interaction.client.fetch_channel(thread.parent_id)
    if not isinstance(parent, discord.TextChannel):  # a forum post: a forum holds no private threads
        raise Refused(t("refuse.private_in_forum", locale))
    return parent


def cost_text(intake: Intake, locale: str) -> str:
    """The request's estimated cost as its card and preview show it, to the credit /quota counts."""
    return estimate(price_table().credits(intake.kind.value, intake.resolution, intake.duration_seconds), locale)


async def _post_request_card(thread: discord.Thread, user: discord.abc.User, intake: Intake,
                             images: Sequence[CheckedImage], locale: str, *,
                             server_mark: str | None, limit: int, shown: bool) -> discord.Message:
    """Who asked, their pictures as they go to the provider (a media gallery, each described), what they asked
    (the same lines /jobs shows) and the estimated cost. A picture bigger than the bot may upload here (`limit`)
    is left out of the gallery (the request goes ahead with it all the same); so is every picture no screen
    looked at (`shown` False), and a line says why."""
    cost = cost_text(intake, locale)
    p = intake.params
    durations = [p.duration] if isinstance(p, Img2VideoParams) else list(p.durations)
    described = picture_descriptions(locale, list(p.prompts), durations, len(images),
                                     start_end=isinstance(p, StartEndParams))
    pictures = [(discord.File(io.BytesIO(i.data), filename=f"picture-{n:02d}{_extension(i.mime_type)}",
                              spoiler=intake.spoiler), text)
                for n, (i, text) in enumerate(zip(images, described, strict=False))
                if shown and len(i.data) <= limit]
    lines = request_lines(p, intake.duration_seconds, locale, budget=CARD_PROMPT_BUDGET, cost=cost,
                          server_mark=server_mark)
    lines = [*lines, *intake.notes]
    if intake.fitted is not None:
        lines = [*lines, fitted_text(intake.fitted, locale)]
    if not shown:
        lines = [*lines, t("card.pictures_unscreened", locale, count=len(images))]
    card = request_card(t("card.request_by", locale, mention=user.mention), pictures, lines)
    return await thread.send(view=card, files=[f for f, _ in pictures],
                             allowed_mentions=discord.AllowedMentions.none())


def fitted_text(fitted: Fitted, locale: str) -> str:
    """What fit_pictures changed, in the member's words."""
    return t("card.fitted", locale, which=t("card.which_end" if fitted.which else "card.which_start", locale),
             before="×".join(map(str, fitted.before)), after="×".join(map(str, fitted.after)),
             low=LOW_RATIO, high=HIGH_RATIO)


def _interaction_upload_limit(interaction: discord.Interaction[Any]) -> int | None:
    """Discord's attachment_size_limit for this interaction (discord.py: `filesize_limit`), if it is sane."""
    limit = getattr(interaction, "filesize_limit", None)
    return limit if isinstance(limit, int) and limit > 0 else None


def _extension(mime_type: str) -> str:
    return {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/gif": ".gif"}.get(mime_type, "")



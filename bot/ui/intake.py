"""From a member's interaction to a stored job: read attachments, check them, open the thread, post cards.

Shared by every generating command, so each one acknowledges, checks and answers the same way.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import discord
from discord.utils import MISSING

from bot.jobs.models import Job, JobInput, JobKind
from bot.media import ImageLimits, PreparedImage, prepare_images
from bot.media.storyboard import Panel, panels_for, render_storyboard
from bot.pricing import estimate_usd, format_usd
from bot.provider import RequestValidationError
from bot.requests import InputProblem, data_uri, image_budget, provider_request
from bot.ui.buttons import queue_view
from bot.ui.status import status_text

if TYPE_CHECKING:
    from bot.app import ViduBot

log = logging.getLogger("bot.intake")
MB = 1024 * 1024
THREAD_NAME_LIMIT = 100


class CheckedImage(Protocol):
    """An image that passed the pipeline: fresh from a member (PreparedImage) or stored (JobInput)."""

    @property
    def filename(self) -> str: ...

    @property
    def data(self) -> bytes: ...

    @property
    def mime_type(self) -> str: ...


class Refused(Exception):
    """The request cannot be taken; the message (one or several lines) goes to the member privately."""


@dataclass(frozen=True)
class Intake:
    kind: JobKind
    params: dict[str, Any]
    resolution: str
    duration_seconds: int
    private: bool
    title: str  # the thread's name: the prompt, shortened


async def read_attachments(
    attachments: Sequence[discord.Attachment], *, max_bytes: int, read_timeout: float
) -> tuple[list[tuple[str, bytes]], list[str]]:
    """Read every attachment's bytes now (CDN links expire), bounded in size and time."""
    files: list[tuple[str, bytes]] = []
    problems: list[str] = []
    for attachment in attachments:
        if attachment.size > max_bytes:
            problems.append(f"{attachment.filename}: {attachment.size / MB:.1f} MB is over the "
                            f"{max_bytes / MB:.0f} MB limit")
            continue
        try:
            data = await asyncio.wait_for(attachment.read(), read_timeout)
        except TimeoutError:
            problems.append(f"{attachment.filename}: could not be read from Discord in time")
            continue
        except discord.HTTPException:
            problems.append(f"{attachment.filename}: could not be downloaded from Discord")
            continue
        files.append((attachment.filename, data))
    return files, problems


async def check_images(bot: ViduBot, attachments: Sequence[discord.Attachment]) -> list[PreparedImage]:
    """Read and check every image; raise Refused listing every problem of every file."""
    settings = bot.settings
    files, problems = await read_attachments(
        attachments, max_bytes=settings.image_max_bytes,
        read_timeout=settings.attachment_read_timeout_seconds,
    )
    limits = ImageLimits(
        max_bytes=settings.image_max_bytes, max_pixels=settings.image_max_pixels,
        data_uri_budget=image_budget(settings.image_data_uri_budget, len(attachments)),
    )
    prepared, image_problems = await prepare_images(files, limits)
    problems += [str(p) for p in image_problems]
    if problems:
        raise Refused(problem_message(problems))
    return prepared


def problem_message(problems: Sequence[str]) -> str:
    head = "Nothing was sent and nothing was charged. Please fix this and try again:"
    if len(problems) > 1:
        head = f"Nothing was sent and nothing was charged. {len(problems)} problems to fix:"
    return "\n".join([head, *(f"• {p}" for p in problems)])


async def validate_request(intake: Intake, images: Sequence[CheckedImage]) -> None:
    """Build the provider request once, as the worker will, so a bad field is refused now."""
    try:
        await asyncio.to_thread(
            lambda: provider_request(intake.kind, intake.params, [data_uri(i.mime_type, i.data) for i in images])
        )
    except (RequestValidationError, InputProblem) as exc:
        raise Refused(problem_message([str(exc)])) from None


async def start_job(
    bot: ViduBot, interaction: discord.Interaction[Any], intake: Intake, images: Sequence[CheckedImage],
    *, parent_job_id: str | None = None,
) -> Job:
    """Open (or reuse) the thread, post the request card, store the job, post its status card."""
    assert interaction.guild_id is not None  # commands are guild-only
    queued = await bot.store.queued_for(interaction.guild_id, interaction.user.id)
    if len(queued) >= bot.settings.max_queued_jobs_per_member:
        raise Refused(f"You already have {len(queued)} jobs waiting in the queue (the limit is "
                      f"{bot.settings.max_queued_jobs_per_member}). Cancel one or wait for them to start.")
    thread = await _open_thread(interaction, intake)
    storyboard = await asyncio.to_thread(render_storyboard, _panels(intake, images))
    card = await thread.send(
        content=_request_card(interaction.user, intake),
        file=discord.File(io.BytesIO(storyboard), filename="storyboard.png"),
        allowed_mentions=discord.AllowedMentions.none(),
    )
    job = await bot.store.create_job(
        Job.new(
            guild_id=interaction.guild_id, channel_id=interaction.channel_id or thread.id,
            user_id=interaction.user.id, kind=intake.kind, params=intake.params,
            resolution=intake.resolution, duration_seconds=intake.duration_seconds,
            locale=str(interaction.locale), private=intake.private, thread_id=thread.id,
            parent_job_id=parent_job_id,
        ),
        [JobInput(n, i.filename, i.mime_type, i.data) for n, i in enumerate(images)],
    )
    active = await bot.store.count_active(job.guild_id, job.user_id)
    position = len(queued) + 1 if active >= bot.settings.max_active_jobs_per_member else None
    status = await thread.send(status_text(job, queue_position=position), view=queue_view(job) or MISSING)
    job = await bot.store.set_message_ids(job.id, card_message_id=card.id, status_message_id=status.id) or job
    log.info("job %s: accepted from user %s in guild %s", job.id, job.user_id, job.guild_id)
    bot.worker.wake()
    return job


async def _open_thread(interaction: discord.Interaction[Any], intake: Intake) -> discord.Thread:
    channel = interaction.channel
    if isinstance(channel, discord.Thread):
        return channel  # a thread or a forum post: answer right there
    if not isinstance(channel, discord.TextChannel):
        raise Refused("I can make videos in text channels, threads and forum posts.")
    name = intake.title[:THREAD_NAME_LIMIT] or "video"
    if intake.private:
        thread = await channel.create_thread(name=name, type=discord.ChannelType.private_thread,
                                             invitable=False)
        await thread.add_user(interaction.user)
        return thread
    starter = await channel.send(
        f"🎬 {interaction.user.mention} is making a video: **{discord.utils.escape_markdown(name)}**",
        allowed_mentions=discord.AllowedMentions.none(),
    )
    return await starter.create_thread(name=name)


def _request_card(user: discord.abc.User, intake: Intake) -> str:
    p = intake.params
    lines = [f"**Request by {user.mention}**"]
    if intake.kind is JobKind.IMG2VIDEO:
        lines.append(f"> {discord.utils.escape_markdown(p['prompt'])}")
        extras = [f"{p['duration']} s", p["resolution"], f"movement {p['movement']}"]
        extras += [label for key, label in (("audio", "audio"), ("bgm", "music"), ("off_peak", "off-peak"))
                   if p.get(key)]
        if p.get("seed") is not None:
            extras.append(f"seed {p['seed']}")
    else:
        for n, (prompt, duration) in enumerate(zip(p["prompts"], p["durations"], strict=True), start=1):
            lines.append(f"{n}. {duration} s — {discord.utils.escape_markdown(prompt or '(no prompt)')}")
        extras = [f"{intake.duration_seconds} s in all", p["resolution"]]
    extras.append(format_usd(estimate_usd(intake.kind.value, intake.resolution, intake.duration_seconds)))
    lines.append(" · ".join(extras))
    return "\n".join(lines)


def _panels(intake: Intake, images: Sequence[CheckedImage]) -> list[Panel]:
    p = intake.params
    if intake.kind is JobKind.IMG2VIDEO:
        return [Panel(images[0].data, f"{p['duration']} s", p["prompt"])]
    return panels_for([i.data for i in images], p["prompts"], p["durations"])

"""The Discord side of safety: the facts bot/safety's policy reads (is this channel age-restricted, what the
server chose, which screens are installed) and the screens run on a request's pictures in the image workers.

Every entry point calls ``screening_here`` and hands the answer to the checks (``check_images``, or
``screen_images`` for pictures already prepared: stored inputs, Extend's last frame), and to ``start_job``,
which shows the pictures on the request card only when a screen passed them."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import discord

from bot.i18n import t
from bot.i18n.formats import join
from bot.media.pool import WorkerLost, image_pool
from bot.media.problems import display_name
from bot.safety import Screening, Verdict, installed_screens, plan_screening, screen_picture
from bot.safety.policy import FlaggedVideo, PicturePolicy, flagged_video, picture_policy

if TYPE_CHECKING:
    from bot.ui.client import ServiceBot

log = logging.getLogger("bot.safety")


class Picture(Protocol):
    @property
    def filename(self) -> str: ...

    @property
    def data(self) -> bytes: ...


@functools.lru_cache(maxsize=8)
def usable_screens(configured: tuple[str, ...]) -> tuple[tuple[str, ...], dict[str, str]]:
    """SAFETY_SCREENS that can run here, and why the others cannot (installed packages do not change while
    the bot runs)."""
    return installed_screens(configured)


def age_restricted(channel: object) -> bool:
    """Discord's age restriction of a channel; a thread follows its parent (discord.py's Thread.is_nsfw reads
    the parent's; an unknown parent reads as not restricted, the safe side)."""
    is_nsfw = getattr(channel, "is_nsfw", None)
    return bool(is_nsfw()) if callable(is_nsfw) else False


async def screening_here(bot: ServiceBot, interaction: discord.Interaction[Any], *,
                         everywhere: bool = False) -> Screening:
    """The screening of pictures sent from this interaction's channel. `everywhere`: a picture that will show
    in every channel (the server's watermark) is screened as for a channel that is not age-restricted."""
    assert interaction.guild_id is not None
    server = await bot.store.guild_settings(interaction.guild_id)
    usable, _ = usable_screens(bot.settings.safety_screens)
    restricted = False if everywhere else age_restricted(interaction.channel)
    return plan_screening(server.safety_pictures, age_restricted=restricted, usable=usable)


async def screen_images(images: Sequence[Picture], screening: Screening, locale: str) -> list[str]:
    """Each picture through the screens, in the image workers; one line (in `locale`) per flagged picture,
    naming it. A worker lost on the way refuses its picture too: unscreened is not passed."""
    if not screening.screens:
        return []
    pool = image_pool()

    async def one(picture: Picture) -> str | None:
        try:
            verdict = await pool.run(screen_picture, screening.screens, picture.data)
        except WorkerLost:
            return t("image.line", locale, filename=display_name(picture.filename),
                     detail=t("image_detail.worker_lost", locale))
        if verdict is None:
            return None
        _log_flagged(picture, verdict)
        return t("image.line", locale, filename=display_name(picture.filename), detail=t("safety.flagged", locale))

    found = await asyncio.gather(*(one(p) for p in images))
    return [line for line in found if line]


def _log_flagged(picture: Picture, verdict: Verdict) -> None:
    # What the operator may need to judge a false alarm: the screen's label and score, never the picture.
    log.info("picture %r flagged by screen %s (%s %.2f)", display_name(picture.filename), verdict.screen,
             verdict.label, verdict.score)


def safety_lines(policy: str, configured: tuple[str, ...], locale: str) -> list[str]:
    """/config show's words on screening: where, which screens run, which cannot (and why not)."""
    usable, missing = usable_screens(configured)
    none = t("config.none", locale)
    where = t(f"config.safety_where.{picture_policy(policy).value}", locale)
    # Why a screen cannot run is the operator's business (a package to install): the log says it, not this.
    lines = [t("config.safety", locale, where=where, active=join(usable, locale) if usable else none,
               missing=join(list(missing), locale) if missing else none)]
    if not usable and picture_policy(policy) is not PicturePolicy.OFF:
        lines.append(t("config.safety_unscreened", locale))
    return lines


def video_lines(policy: str, flagged: str, *, has_modlog: bool, locale: str) -> list[str]:
    """/config show's words on finished videos: where they are screened before posting, what a flagged one gets
    (without a mod-log to hold it in, a spoiler: said so)."""
    where = t(f"config.safety_where.{picture_policy(policy).value}", locale)
    action = flagged_video(flagged)
    lines = [t("config.safety_videos", locale, where=where, flagged=t(f"config.flagged.{action.value}", locale))]
    if action is FlaggedVideo.HOLD and not has_modlog and picture_policy(policy) is not PicturePolicy.OFF:
        lines.append(t("config.flagged_no_modlog", locale))
    return lines

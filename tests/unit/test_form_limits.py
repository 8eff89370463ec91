"""Every form the bot opens fits Discord's modal limits in every language, a member's longest prompt as the
Extend form's default included: checked by the fake Discord's own modal rules (tests/fakes/discord/modals.py)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bot.i18n import SUPPORTED_LOCALES
from bot.jobs import Job, JobKind
from bot.jobs.models import utcnow
from bot.member_settings import MemberSettings
from bot.params import Img2VideoParams, MultiframeParams
from bot.ui.remix import RemixModal
from bot.ui.video_actions import ExtendModal
from cogs.menu import AnimatePictureForm, AnimateSegmentsForm
from cogs.storyboard import StoryboardForm
from tests.fakes.discord.modals import check_modal

MINE = MemberSettings(resolution="1080p", duration=8)
NINE = MultiframeParams(prompts=tuple("a segment's prompt, " * 20 for _ in range(9)), durations=(7,) * 9)


def _job(prompt: str, locale: str) -> Job:
    job = Job.new(guild_id=1, channel_id=2, user_id=3, kind=JobKind.IMG2VIDEO,
                  params=Img2VideoParams(prompt=prompt, duration=5, resolution="720p"), resolution="720p",
                  duration_seconds=5, locale=locale, now=utcnow())
    return replace(job, thread_id=4)


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
async def test_every_form_fits_discords_modal_limits(locale: str) -> None:
    bot: Any = None  # the forms only keep it for their submit
    forms = [
        StoryboardForm(bot, private=False, mine=MINE, locale=locale),
        AnimatePictureForm(bot, picture=None, mine=MINE, locale=locale),  # type: ignore[arg-type]
        AnimateSegmentsForm(bot, [None] * 10, mine=MINE, locale=locale),  # type: ignore[list-item]
        *(ExtendModal(_job(prompt, locale), locale) for prompt in ("*_" * 1000, "👨\u200d👩\u200d👧" * 400)),
        *(RemixModal(_job(prompt, locale), locale) for prompt in ("*_" * 1000, "👨\u200d👩\u200d👧" * 400)),
        RemixModal(replace(_job("x", locale), kind=JobKind.MULTIFRAME, params=NINE), locale),
    ]
    for form in forms:
        check_modal(form.to_dict())  # raises Discord's 400 50035 naming the field

"""Generating commands: /animate (one image) and /keyframes (a start image and 2-9 keyframes)."""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import ViduBot
from bot.i18n import locale_of, t
from bot.jobs.models import JobKind
from bot.params import Img2VideoParams, MultiframeParams
from bot.provider.models import MAX_VOICE_ID_CHARS
from bot.requests import (
    InputProblem,
    check_keyframe_count,
    split_durations,
    split_prompts,
)
from bot.ui.intake import Intake, admit, check_images, start_job, validate_request
from bot.ui.replies import Refused
from bot.ui.screening import screening_here
from cogs.storyboard import SPOILER_HELP

Interaction = discord.Interaction[ViduBot]


class Generate(commands.Cog):
    def __init__(self, bot: ViduBot) -> None:
        self.bot = bot

    async def _run(self, interaction: Interaction, attachments: list[discord.Attachment],
                   intake: Intake) -> None:
        """Acknowledge at once, then check everything, then start the job; one private answer (a Refused on the
        way is answered by the command tree's error handler)."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        locale = locale_of(interaction)
        # The server's rules first: a blocked member, a closed channel or a used-up quota costs no download.
        admission = await admit(self.bot, interaction, intake)
        screening = await screening_here(self.bot, interaction)
        images = await check_images(self.bot, attachments, locale, resolution=intake.resolution, screening=screening)
        validate_request(intake, images, locale)
        job = await start_job(self.bot, interaction, intake, images, screening=screening, admission=admission)
        await interaction.followup.send(t("answer.started", locale, job_id=job.id, thread_id=job.thread_id),
                                        ephemeral=True)

    @app_commands.command(name="animate", description="Turn one image into a video")
    @app_commands.guild_only()
    @app_commands.describe(
        image="The picture to animate (png, jpeg, webp; others are converted)",
        prompt="What should happen in the video",
        duration="Length in seconds (1-10, default 5)",
        resolution="Video resolution (default 720p)",
        movement="How much things move (default auto)",
        seed="Same seed, same inputs: a similar video",
        audio="Generate sound",
        bgm="Add background music",
        off_peak="Cheaper, but may take up to 48 hours",
        voice="Voice for generated speech: the provider's voice id",
        watermark="Add the provider's watermark",
        private="Answer in a private thread (you and the moderators)",
        spoiler=SPOILER_HELP,
    )
    async def animate(
        self,
        interaction: Interaction,
        image: discord.Attachment,
        prompt: app_commands.Range[str, 1, 2000],
        duration: app_commands.Range[int, 1, 10] = 5,
        resolution: Literal["720p", "1080p"] = "720p",
        movement: Literal["auto", "small", "medium", "high"] = "auto",
        seed: app_commands.Range[int, 0, 2147483647] | None = None,
        audio: bool = False,
        bgm: bool = False,
        off_peak: bool = False,
        voice: app_commands.Range[str, 1, MAX_VOICE_ID_CHARS] | None = None,
        watermark: bool = False,
        private: bool = False,
        spoiler: bool = False,
    ) -> None:
        params = Img2VideoParams(prompt=prompt, duration=duration, resolution=resolution, movement=movement,
                                 seed=seed, audio=audio, bgm=bgm, off_peak=off_peak,
                                 voice_id=voice.strip() if voice and voice.strip() else None, watermark=watermark)
        intake = Intake(JobKind.IMG2VIDEO, params, resolution, duration, private, title=prompt, spoiler=spoiler)
        await self._run(interaction, [image], intake)

    @app_commands.command(name="keyframes", description="Join a start image and 2-9 keyframes into one video")
    @app_commands.guild_only()
    @app_commands.describe(
        start="The first frame",
        frame1="Keyframe 1: where segment 1 ends",
        frame2="Keyframe 2: where segment 2 ends",
        prompts='One prompt for all segments, or one per segment: "walks in | sits down"',
        durations='Seconds per segment (2-7): one for all, or one each: "4,5"',
        resolution="Video resolution (default 720p)",
        watermark="Add the provider's watermark",
        private="Answer in a private thread (you and the moderators)",
        spoiler=SPOILER_HELP,
    )
    async def keyframes(
        self,
        interaction: Interaction,
        start: discord.Attachment,
        frame1: discord.Attachment,
        frame2: discord.Attachment,
        frame3: discord.Attachment | None = None,
        frame4: discord.Attachment | None = None,
        frame5: discord.Attachment | None = None,
        frame6: discord.Attachment | None = None,
        frame7: discord.Attachment | None = None,
        frame8: discord.Attachment | None = None,
        frame9: discord.Attachment | None = None,
        prompts: app_commands.Range[str, 0, 4000] | None = None,
        durations: str | None = None,
        resolution: Literal["540p", "720p", "1080p"] = "720p",
        watermark: bool = False,
        private: bool = False,
        spoiler: bool = False,
    ) -> None:
        frames = [f for f in (frame1, frame2, frame3, frame4, frame5, frame6, frame7, frame8, frame9) if f]
        try:
            check_keyframe_count(len(frames))
            segment_prompts = split_prompts(prompts, len(frames))
            segment_durations = split_durations(durations, len(frames))
        except InputProblem as problem:
            locale = locale_of(interaction)
            raise Refused.listing([problem.text(locale)], locale) from None
        params = MultiframeParams(prompts=tuple(segment_prompts), durations=tuple(segment_durations),
                                  resolution=resolution, watermark=watermark)
        title = (next((p for p in segment_prompts if p), None)
                 or t("title.keyframes", locale_of(interaction), count=len(frames) + 1))
        intake = Intake(JobKind.MULTIFRAME, params, resolution, sum(segment_durations), private, title, spoiler)
        await self._run(interaction, [start, *frames], intake)


async def setup(bot: ViduBot) -> None:
    await bot.add_cog(Generate(bot))

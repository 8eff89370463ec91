"""Generating commands: /animate (one image) and /keyframes (a start image and an end picture, or 2-9
keyframes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import ViduBot
from bot.i18n import locale_of, t
from bot.jobs.models import JobKind
from bot.member_settings import IMG2VIDEO_RULES, MemberSettings, choose
from bot.params import Img2VideoParams
from bot.provider.models import MAX_VOICE_ID_CHARS
from bot.requests import InputProblem, check_keyframe_count, split_durations, split_prompts
from bot.ui.confirm import start_or_confirm
from bot.ui.intake import Intake, admit, check_images, fit_pictures, keyframes_with_defaults, validate_request
from bot.ui.replies import Refused
from bot.ui.screening import screening_here
from cogs.storyboard import SPOILER_HELP

Interaction = discord.Interaction[ViduBot]


class Generate(commands.Cog):
    def __init__(self, bot: ViduBot) -> None:
        self.bot = bot

    async def _run(self, interaction: Interaction, attachments: list[discord.Attachment],
                   make_intake: Callable[[MemberSettings], Intake]) -> None:
        """Acknowledge at once, then read the member's defaults (/settings) and build the request from them
        (`make_intake`), check everything, then start the job, or ask to confirm its cost first; one private
        answer (a Refused on the way is answered by the command tree's error handler)."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        locale = locale_of(interaction)
        assert interaction.guild_id is not None  # guild-only commands
        mine = await self.bot.store.member_settings(interaction.guild_id, interaction.user.id)
        intake = make_intake(mine)
        # The server's rules first: a blocked member, a closed channel or a used-up quota costs no download.
        admission = await admit(self.bot, interaction, intake)
        screening = await screening_here(self.bot, interaction)
        images = await check_images(self.bot, attachments, locale, resolution=intake.resolution, screening=screening)
        intake, images = await fit_pictures(self.bot, intake, images, locale)
        validate_request(intake, images, locale)
        await start_or_confirm(self.bot, interaction, intake, images, screening=screening, admission=admission,
                               confirm=mine.confirms,
                               answer=lambda job: t("answer.started", locale, job_id=job.id, thread_id=job.thread_id))

    @app_commands.command(name="animate", description="Turn one image into a video")
    @app_commands.guild_only()
    @app_commands.describe(
        image="The picture to animate (png, jpeg, webp; others are converted)",
        prompt="What should happen in the video",
        duration="Length in seconds (1-10; default 5, or your /settings)",
        resolution="Video resolution (default 720p, or your /settings)",
        movement="How much things move (default auto, or your /settings)",
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
        duration: app_commands.Range[int, 1, 10] | None = None,
        resolution: Literal["720p", "1080p"] | None = None,
        movement: Literal["auto", "small", "medium", "high"] | None = None,
        seed: app_commands.Range[int, 0, 2147483647] | None = None,
        audio: bool = False,
        bgm: bool = False,
        off_peak: bool = False,
        voice: app_commands.Range[str, 1, MAX_VOICE_ID_CHARS] | None = None,
        watermark: bool = False,
        private: bool | None = None,
        spoiler: bool = False,
    ) -> None:
        locale = locale_of(interaction)

        def intake(mine: MemberSettings) -> Intake:
            c = choose(IMG2VIDEO_RULES, mine, locale=locale, given={
                "resolution": resolution, "duration": duration, "movement": movement, "private": private})
            params = Img2VideoParams(prompt=prompt, duration=c.duration, resolution=c.resolution,
                                     movement=c.movement, seed=seed, audio=audio, bgm=bgm, off_peak=off_peak,
                                     voice_id=voice.strip() if voice and voice.strip() else None, watermark=watermark)
            return Intake(JobKind.IMG2VIDEO, params, c.resolution, c.duration, c.private, title=prompt,
                          spoiler=spoiler, notes=c.notes())

        await self._run(interaction, [image], intake)

    @app_commands.command(name="keyframes",
                          description="A video from a start and an end picture, or a start and 2-9 keyframes")
    @app_commands.guild_only()
    @app_commands.describe(
        start="The first frame",
        frame1="Keyframe 1: where segment 1 ends (alone: the end picture)",
        frame2="Keyframe 2: where segment 2 ends",
        prompts='One prompt for all segments, or one per segment: "walks in | sits down"',
        durations='Seconds per segment (2-7; 1-8 with an end picture alone): one for all, or one each: "4,5"',
        resolution="Video resolution (default 720p, or your /settings)",
        movement="How much things move, with a start and an end picture only (default auto, or your /settings)",
        watermark="Add the provider's watermark",
        private="Answer in a private thread (you and the moderators)",
        spoiler=SPOILER_HELP,
    )
    async def keyframes(
        self,
        interaction: Interaction,
        start: discord.Attachment,
        frame1: discord.Attachment,
        frame2: discord.Attachment | None = None,
        frame3: discord.Attachment | None = None,
        frame4: discord.Attachment | None = None,
        frame5: discord.Attachment | None = None,
        frame6: discord.Attachment | None = None,
        frame7: discord.Attachment | None = None,
        frame8: discord.Attachment | None = None,
        frame9: discord.Attachment | None = None,
        prompts: app_commands.Range[str, 0, 4000] | None = None,
        durations: str | None = None,
        resolution: Literal["540p", "720p", "1080p"] | None = None,
        movement: Literal["auto", "small", "medium", "high"] | None = None,
        watermark: bool = False,
        private: bool | None = None,
        spoiler: bool = False,
    ) -> None:
        frames = [f for f in (frame1, frame2, frame3, frame4, frame5, frame6, frame7, frame8, frame9) if f]
        locale = locale_of(interaction)
        try:
            check_keyframe_count(len(frames))
            segment_prompts = split_prompts(prompts, len(frames))
            typed_durations = split_durations(durations, len(frames)) if durations and durations.strip() else None
            keyframes_with_defaults(MemberSettings(), segment_prompts, typed_durations, resolution=resolution,
                                    movement=movement, private=private, locale=locale)  # refused before any read
        except InputProblem as problem:
            raise Refused.listing([problem.text(locale)], locale) from None

        def intake(mine: MemberSettings) -> Intake:
            return keyframes_with_defaults(mine, segment_prompts, typed_durations, resolution=resolution,
                                           movement=movement, private=private, locale=locale, watermark=watermark,
                                           spoiler=spoiler)

        await self._run(interaction, [start, *frames], intake)


async def setup(bot: ViduBot) -> None:
    await bot.add_cog(Generate(bot))

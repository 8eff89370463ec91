"""The bot's messages in a job's thread as Components V2 layouts (discord.ui.LayoutView): the request card
(the member's pictures in a media gallery, the prompts and settings under it), the status card (a container
whose text and accent colour follow the job's state) and the delivered video (in a gallery, its buttons
under it). The words come from bot/ui/status.py and bot/ui/text.py; the buttons are passed in.

A V2 message has no `content`: every line a reader (or a restarted bot looking for its marker) sees is in a
TextDisplay, and an attached file shows only where a component names it (`attachment://<filename>`)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import discord

from bot.i18n import t
from bot.jobs.models import Job
from bot.jobs.review import withheld
from bot.jobs.states import JobState
from bot.ui.fit import DESCRIPTION_LIMIT, TEXT_DISPLAY_LIMIT, clip, quote
from bot.ui.replies import answer_error

log = logging.getLogger("bot.ui")
S = JobState
INVALID_FORM_BODY = 50035
BRAND = 0x7B61FF  # the request card and a job the bot has not yet sent on
ACCENTS: dict[JobState, int] = {
    S.ACCEPTED: 0x99AAB5,  # waiting in our queue: grey
    S.SUBMITTING: BRAND,
    S.SUBMITTED: 0x5865F2,  # generating: blurple
    S.SUCCEEDED: 0x57F287,
    S.DELIVERED: 0x57F287,  # green
    S.REJECTED: 0xED4245,  # red: no video, nothing counted
    S.FAILED: 0xED4245,
    S.SUBMIT_UNKNOWN: 0xFEE75C,  # yellow: may or may not have been made (and counted)
    S.EXPIRED: 0xE67E22,  # orange: made or maybe made, counted, not here
    S.CANCELLED: 0x4F545C,
}
GALLERY_MAX = 10  # Discord's limit of items in a media gallery (and of files in a message)


class Card(discord.ui.LayoutView):
    """Whatever a button on a card raises is answered by answer_error, as for every view (bot/ui/base.py)."""

    what = "a card"

    def __init__(self) -> None:
        super().__init__(timeout=None)

    async def on_error(self, interaction: discord.Interaction[Any], error: Exception,
                       item: discord.ui.Item[Any], /) -> None:
        await answer_error(interaction, error, self.what)


HELD_ACCENT = 0xFEE75C  # yellow: made, waiting for a moderator (bot/jobs/review.py)


def accent(job: Job) -> int:
    return HELD_ACCENT if job.state is S.SUCCEEDED and withheld(job) else ACCENTS.get(job.state, BRAND)


def _row(buttons: Sequence[discord.ui.Item[Any]]) -> list[discord.ui.Item[Any]]:
    return [discord.ui.ActionRow(*buttons)] if buttons else []


def status_card(job: Job, text: str, buttons: Sequence[discord.ui.Item[Any]] = ()) -> Card:
    """The job's state in words (status_text, which starts with the job's marker), coloured by the state."""
    card = Card()
    card.add_item(discord.ui.Container(discord.ui.TextDisplay(clip(text, TEXT_DISPLAY_LIMIT)), *_row(buttons),
                                       accent_colour=accent(job)))
    return card


def video_card(job: Job, text: str, video: discord.File | None,
               buttons: Sequence[discord.ui.Item[Any]]) -> Card:
    """The finished video in a gallery of one, with the mention, marker and notes above it. `video` is None when
    not even a smaller copy fits here (the text then links the full one)."""
    gallery: list[discord.ui.Item[Any]] = []
    if video is not None:
        gallery.append(discord.ui.MediaGallery(discord.MediaGalleryItem(video)))
    card = Card()
    card.add_item(discord.ui.Container(discord.ui.TextDisplay(clip(text, TEXT_DISPLAY_LIMIT)), *gallery, *_row(buttons),
                                       accent_colour=accent(job)))
    return card


def request_card(head: str, pictures: Sequence[tuple[discord.File, str]], lines: Sequence[str]) -> Card:
    """Who asked (`head`), their pictures in order with each one's description (its alt text: which keyframe,
    its segment's seconds and prompt), then the request's lines (prompts, settings, estimated cost)."""
    card = Card()
    items = [discord.MediaGalleryItem(f, description=quote(d, DESCRIPTION_LIMIT, markdown=False) or None)
             for f, d in pictures[:GALLERY_MAX]]
    gallery: list[discord.ui.Item[Any]] = [discord.ui.MediaGallery(*items)] if items else []
    card.add_item(discord.ui.Container(discord.ui.TextDisplay(head), *gallery,
                                       discord.ui.TextDisplay(clip("\n".join(lines), TEXT_DISPLAY_LIMIT - len(head))),
                                       accent_colour=BRAND))
    return card


def picture_descriptions(locale: str, prompts: Sequence[str | None], durations: Sequence[int],
                         count: int, *, start_end: bool = False) -> list[str]:
    """The alt text of each picture of a request: one picture (image to video) carries the prompt; a start
    picture and keyframes each name their place, keyframe n ending segment n (`start_end`: the end picture)."""
    no_prompt = t("card.no_prompt", locale)
    if count == 1 and len(prompts) == 1:
        return [t("card.picture_one", locale, seconds=durations[0], prompt=prompts[0] or no_prompt)]
    found = [t("card.picture_start", locale)]
    if start_end:
        return [*found, t("card.picture_end", locale, seconds=durations[0], prompt=prompts[0] or no_prompt)][:count]
    for n, (prompt, seconds) in enumerate(zip(prompts, durations, strict=False), start=1):
        found.append(t("card.picture_keyframe", locale, n=n, seconds=seconds, prompt=prompt or no_prompt))
    return found[:count]


def upload_limit(guild: discord.Guild | None, interaction_limit: int | None) -> int:
    """What the bot may upload in a message of its own there (a card's pictures, a video): the server's limit as
    discord.py knows it (a table by boost tier; bots have no Nitro), and no more than the asking interaction's
    attachment_size_limit, Discord's live figure (the larger of the member's Nitro limit and the server's), which
    catches a server whose limit the table does not know."""
    server = guild.filesize_limit if guild is not None else 10 * 1024 * 1024
    return min(server, interaction_limit) if interaction_limit else server


async def edit_card(edit: Callable[..., Awaitable[Any]], card: Card, text: str,
                    text_view: discord.ui.View | None) -> None:
    """Edit a card in place with `edit` (a message's or an interaction's). A card posted as plain text by a bot
    from before the cards were Components V2 (its job in flight over the upgrade) cannot take a layout beside
    its text: Discord refuses the form, and the card stays text (`text`, with `text_view`'s buttons)."""
    try:
        await edit(view=card)
    except discord.HTTPException as exc:
        if exc.status != 400 or exc.code != INVALID_FORM_BODY:
            raise
        log.warning("a card refused its Components V2 layout (%s); edited as text", exc.text)
        await edit(content=text, view=text_view)


def message_text(message: discord.Message) -> str:
    """What a reader sees as text in a message, V2 text displays included (where a V2 card keeps its marker)."""
    return "\n".join([message.content, *_texts(message.components)])


def _texts(components: Iterable[Any]) -> list[str]:
    found: list[str] = []
    for component in components:
        if isinstance(component, discord.TextDisplay):
            found.append(component.content)
        found += _texts(getattr(component, "children", ()) or ())
        accessory = getattr(component, "accessory", None)
        if accessory is not None:
            found += _texts([accessory])
    return found

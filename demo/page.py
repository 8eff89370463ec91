"""One self-contained HTML page of the channels as members saw them, drawn from what the fake Discord holds.

Components V2 cards (containers with their accent colour, text displays, media galleries, sections,
separators, buttons, selects), plain messages with their files, threads, and ephemeral answers marked as
Discord marks them. Pictures and videos are inlined as data URIs: the page makes no request.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import re
from pathlib import Path
from typing import Any

from demo.markdown import Names, render
from tests.fakes.discord import FakeDiscord, SentMessage, StoredAttachment
from tests.fakes.discord.interactions import APPLICATION_COMMAND, MESSAGE_COMPONENT, MODAL_SUBMIT, InteractionRecord
from tests.fakes.discord.models import FakeChannel

STYLE = (Path(__file__).with_name("page.css")).read_text(encoding="utf-8")
BUTTON_STYLES = {1: "primary", 2: "secondary", 3: "success", 4: "danger", 5: "link"}
# Discord's thread icon, drawn (an emoji would need an emoji font on the reader's machine).
_THREAD_PATH = (
    "M5.43 21a.5.5 0 0 1-.49-.59L5.7 16H2.2a.5.5 0 0 1-.5-.59l.18-1a.5.5 0 0 1 .5-.41h3.68l1.06-6H3.6a.5."
    "5 0 0 1-.49-.59l.17-1A.5.5 0 0 1 3.77 6h3.58l.8-4.6a.5.5 0 0 1 .5-.4h1a.5.5 0 0 1 .49.59L9.36 6h6l.8"
    "-4.6a.5.5 0 0 1 .5-.4h1a.5.5 0 0 1 .49.59L17.36 6h3.5a.5.5 0 0 1 .49.59l-.18 1a.5.5 0 0 1-.49.41h-3."
    "68l-.36 2h-2.03l.36-2h-6l-1.06 6h3.55v2H7.7l-.8 4.6a.5.5 0 0 1-.5.4h-1Zm11.07-8h2v4h4v2h-4v4h-2v-4h-"
    "4v-2h4v-4Z"
)
THREAD_ICON = ('<svg class="icon" viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">'
               f'<path fill="currentColor" d="{_THREAD_PATH}"/></svg>')
AVATAR_COLOURS = ["#5865f2", "#eb459e", "#57f287", "#fee75c", "#ed4245", "#3ba55c", "#faa61a"]


def _esc(text: object) -> str:
    return html.escape(str(text))


def _data_uri(attachment: StoredAttachment) -> str:
    kind = attachment.content_type or "application/octet-stream"
    return f"data:{kind};base64,{base64.b64encode(attachment.content).decode()}"


def _is_video(attachment: StoredAttachment) -> bool:
    return (attachment.content_type or "").startswith("video/") or attachment.filename.endswith(".mp4")


def _emoji(component: dict[str, Any]) -> str:
    emoji = component.get("emoji") or {}
    return _esc(emoji.get("name") or "")


class Page:
    """Renders the fake's guild: #general, then each thread, in the order they were made."""

    def __init__(self, fake: FakeDiscord, now: float) -> None:
        self.fake = fake
        self.world = fake.world
        guild = self.world.guild
        self.now = now
        self.users = {m.id: m.name for m in guild.members.values()}
        self.locales = {m.id: m.locale for m in guild.members.values()}
        self.roles = {r.id: r.name for r in guild.roles.values()}
        self.channels = {c.id: c.name for c in fake.channels.values()}

    # --- text ------------------------------------------------------------------------------------------

    def _reader(self, message: SentMessage, default: int | None = None) -> int | None:
        """The member a message speaks to: whoever alone sees it, or the first member it mentions, or (a
        status card in a job's thread) the thread's requester."""
        if message.visible_to is not None:
            return message.visible_to
        mentioned = re.search(r"<@!?(\d+)>", message.text())
        return int(mentioned.group(1)) if mentioned else default

    def _md(self, text: str, reader: int | None) -> str:
        names = Names(self.users, self.roles, self.channels, self.now, self.locales.get(reader or 0, "en-US"))
        return render(text, names)

    # --- components ------------------------------------------------------------------------------------

    def _media(self, message: SentMessage, url: str, description: str | None, css: str) -> str:
        """A gallery item or thumbnail: the message's own file (attachment://name) inlined; anything else would
        be a request to the network, so it is drawn as a placeholder."""
        name = url.removeprefix("attachment://")
        found = next((a for a in message.attachments if a.filename == name), None) if url != name else None
        if found is None:
            return f'<div class="{css} missing" title="{_esc(url)}">{_esc(description or name)}</div>'
        alt = _esc(description or found.filename)
        if _is_video(found):
            return (f'<video class="{css}" controls preload="auto" playsinline title="{alt}" '
                    f'src="{_data_uri(found)}"></video>')
        return f'<img class="{css}" alt="{alt}" title="{alt}" src="{_data_uri(found)}">'

    def _button(self, c: dict[str, Any]) -> str:
        style = BUTTON_STYLES.get(c.get("style", 2), "secondary")
        label = " ".join(p for p in (_emoji(c), _esc(c.get("label", ""))) if p)
        disabled = " disabled" if c.get("disabled") else ""
        title = _esc(c.get("custom_id", ""))
        return f'<button type="button" class="btn {style}"{disabled} title="{title}">{label}</button>'

    def _component(self, message: SentMessage, c: dict[str, Any], reader: int | None) -> str:
        kind = c.get("type")
        if kind == 17:
            accent = c.get("accent_color")
            style = f' style="--accent:#{accent:06x}"' if isinstance(accent, int) else ""
            inner = "".join(self._component(message, x, reader) for x in c.get("components", []))
            return f'<div class="container{" accented" if style else ""}"{style}>{inner}</div>'
        if kind == 10:
            return f'<div class="text-display">{self._md(str(c.get("content", "")), reader)}</div>'
        if kind == 12:
            items = c.get("items", [])
            tiles = "".join(self._media(message, i["media"]["url"], i.get("description"), "tile") for i in items)
            return f'<div class="gallery n{min(len(items), 4)}">{tiles}</div>'
        if kind == 9:
            texts = "".join(self._component(message, x, reader) for x in c.get("components", []))
            accessory = c.get("accessory") or {}
            side = (self._media(message, accessory["media"]["url"], accessory.get("description"), "thumb")
                    if accessory.get("type") == 11 else self._component(message, accessory, reader))
            return f'<div class="section"><div class="section-texts">{texts}</div><div>{side}</div></div>'
        if kind == 11:
            return self._media(message, c["media"]["url"], c.get("description"), "thumb")
        if kind == 14:
            line = " divider" if c.get("divider", True) else ""
            return f'<div class="separator s{c.get("spacing", 1)}{line}"></div>'
        if kind == 13:
            return f'<div class="file">📄 {_esc(c.get("file", {}).get("url", "").removeprefix("attachment://"))}</div>'
        if kind == 1:
            buttons = "".join(self._component(message, x, reader) for x in c["components"])
            return f'<div class="row">{buttons}</div>'
        if kind == 2:
            return self._button(c)
        if kind in (3, 5, 6, 7, 8):
            chosen = [o.get("label", "") for o in c.get("options", []) if o.get("default")]
            shown = ", ".join(chosen) or c.get("placeholder") or "Make a selection"
            return f'<div class="select">{_esc(shown)}<span>⌄</span></div>'
        return f'<div class="unknown">component type {_esc(kind)}</div>'

    def _embed(self, embed: dict[str, Any], reader: int | None) -> str:
        colour = embed.get("color")
        style = f' style="--accent:#{colour:06x}"' if isinstance(colour, int) else ""
        parts = [f'<div class="embed-title">{self._md(embed["title"], reader)}</div>' if embed.get("title") else "",
                 self._md(embed.get("description", ""), reader)]
        parts += [f'<div class="field"><b>{_esc(f.get("name", ""))}</b>{self._md(f.get("value", ""), reader)}</div>'
                  for f in embed.get("fields", [])]
        if (embed.get("footer") or {}).get("text"):
            parts.append(f'<div class="subtext">{_esc(embed["footer"]["text"])}</div>')
        return f'<div class="container accented embed"{style}>{"".join(parts)}</div>'

    # --- messages --------------------------------------------------------------------------------------

    def _avatar(self, user_id: int, small: bool = False) -> str:
        name = self.users.get(user_id, "?")
        colour = AVATAR_COLOURS[user_id % len(AVATAR_COLOURS)] if user_id != self.fake.bot_user.id else "#f47b67"
        letter = name[:1].upper()
        return f'<div class="avatar{" small" if small else ""}" style="background:{colour}">{_esc(letter)}</div>'

    def _invoked(self, ix: InteractionRecord) -> str:
        """The line above an interaction's answer: who used which command, pressed what or sent which form."""
        who = f'<span class="who">{_esc(self.users.get(ix.user_id, "?"))}</span>'
        if ix.type == APPLICATION_COMMAND:
            did = f'used <span class="command">/{_esc(ix.name)}</span>'
        elif ix.type == MESSAGE_COMPONENT:
            did = f"pressed {self._pressed_label(ix)}"
        elif ix.type == MODAL_SUBMIT:
            did = f"sent the form {self._form_title(ix)}"
        else:
            did = "interacted"
        return f'<div class="invoked">{self._avatar(ix.user_id, small=True)}{who} {did}</div>'

    def _pressed_label(self, ix: InteractionRecord) -> str:
        source = self.fake._messages.get(ix.message_id or 0)
        components = [] if source is None else [source.components, *(r.components for r in source.edits)]
        for tree in components:
            for c in _walk(tree or []):
                if c.get("custom_id") == ix.name:
                    label = " ".join(p for p in (_emoji(c), _esc(c.get("label", ""))) if p)
                    return f'<span class="command">{label}</span>'
        return f'<span class="command">{_esc(ix.name)}</span>'

    def _form_title(self, submitted: InteractionRecord) -> str:
        """The title of the modal a submission answers (the interaction that opened it, same member)."""
        opener = next((x for x in self.fake.interactions.values() if x.modal and x.user_id == submitted.user_id
                       and x.modal.get("custom_id") == submitted.name), None)
        title = (opener.modal or {}).get("title", "") if opener else ""
        return f'<span class="command">“{_esc(title)}”</span>' if title else ""

    def _presses_on(self, message: SentMessage) -> str:
        """Buttons members pressed on this message whose answer edited it in place (nothing new was posted)."""
        lines = []
        for ix in sorted(self.fake.interactions.values(), key=lambda x: x.id):
            if ix.message_id == message.id and ix.type == MESSAGE_COMPONENT:
                # an edit of this message (6, 7) or a form (9): nothing else in the channel shows the press
                answered_here = any(r.type in (6, 7, 9) for r in ix.responses)
                if answered_here:
                    lines.append(f'<div class="pressed">↳ {_esc(self.users.get(ix.user_id, "?"))} pressed '
                                 f"{self._pressed_label(ix)}</div>")
        return "".join(lines)

    def message(self, message: SentMessage, thread_reader: int | None = None) -> str:
        reader = self._reader(message, thread_reader)
        author = self.users.get(message.author_id, "?")
        is_bot = message.author_id == self.fake.bot_user.id
        ix = self.fake.interactions.get(message.interaction_id) if message.interaction_id else None
        at = dt.datetime.fromtimestamp(message.created_at, dt.UTC)
        body = [self._md(message.content, reader) if message.content else ""]
        body += [self._embed(e, reader) for e in message.embeds]
        body += [self._component(message, c, reader) for c in message.components]
        shown = {a.filename for a in message.attachments if f"attachment://{a.filename}" in repr(message.components)}
        loose = [a for a in message.attachments if a.filename not in shown]
        if loose:
            body.append('<div class="attachments">' + "".join(
                self._media(message, f"attachment://{a.filename}", a.description, "tile") for a in loose) + "</div>")
        if message.thread_id is not None and message.thread_id in self.fake.channels:
            thread = self.fake.channels[message.thread_id]
            count = len(self.fake.messages(thread))
            body.append(f'<a class="thread-link" href="#c-{thread.id}">{THREAD_ICON}<b>{_esc(thread.name)}</b>'
                        f"<span>{count} messages ›</span></a>")
        if message.ephemeral:
            body.append(f'<div class="ephemeral-note">👁 Only you can see this · '
                        f'<span>shown to {_esc(self.users.get(message.visible_to or 0, "?"))}</span></div>')
        locale = self.locales.get(reader or 0, "")
        attrs = (f'class="message{" ephemeral" if message.ephemeral else ""}" id="m-{message.id}" '
                 f'data-reader="{_esc(self.users.get(reader or 0, ""))}" data-locale="{_esc(locale)}"'
                 # the reader's language: a browser picks Chinese glyphs (not Japanese ones) for zh-CN text
                 f'{" lang=zh-CN" if locale.startswith("zh") else ""}')
        head = (f'<div class="head"><span class="author">{_esc(author)}</span>'
                f'{"<span class=bot-tag>APP</span>" if is_bot else ""}'
                f'<time class="sent" title="{at:%Y-%m-%d %H:%M:%S} UTC">Today at {at:%H:%M:%S}</time>'
                "</div>")
        return (f"<article {attrs}>{self._invoked(ix) if ix else ''}<div class='line'>{self._avatar(message.author_id)}"
                f'<div class="body">{head}{"".join(body)}{self._presses_on(message)}</div></div></article>')

    # --- channels --------------------------------------------------------------------------------------

    def channel(self, channel: FakeChannel) -> str:
        is_thread = channel.parent_id is not None
        parent = _esc(self.channels.get(channel.parent_id or 0))
        title = (f"{THREAD_ICON} {_esc(channel.name)} <small>thread in # {parent}</small>"
                 if is_thread else f"# {_esc(channel.name)}")
        shown = self.fake.messages(channel)
        requester = next((r for m in shown if (r := self._reader(m)) is not None), None) if is_thread else None
        messages = "".join(self.message(m, requester) for m in shown)
        kind = "thread" if is_thread else "text"
        return (f'<section class="channel {kind}" id="c-{channel.id}" data-name="{_esc(channel.name)}">'
                f"<h2>{title}</h2>{messages}</section>")

    def html(self, intro: str) -> str:
        general = self.world.general
        threads = self.fake.threads(general)
        nav = "".join(f'<a class="nav-thread" href="#c-{t.id}">{THREAD_ICON}{_esc(t.name)}</a>' for t in threads)
        members = "".join(f'<div class="member">{self._avatar(m.id, small=True)}{_esc(m.name)} '
                          f"<small>{_esc(m.locale)}{' · moderator' if self.world.moderators.id in m.role_ids else ''}"
                          f"</small></div>" for m in (self.world.alice, self.world.bob, self.world.mod))
        return (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            # No request may leave the page: only inline data for images and media, nothing else at all.
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
            "media-src data:; style-src 'unsafe-inline'\">"
            f"<title>VIDU bot demo</title><style>{STYLE}</style></head><body>"
            f'<nav class="sidebar"><div class="guild">{_esc(self.world.guild.name)}</div>'
            f'<a class="nav-channel" href="#c-{general.id}"># {_esc(general.name)}</a>{nav}'
            f'<div class="members"><div class="label">Members</div>{members}</div></nav>'
            f'<main><div class="intro">{intro}</div>{self.channel(general)}'
            f'{"".join(self.channel(t) for t in threads)}</main></body></html>'
        )


def _walk(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for c in components:
        out.append(c)
        out += _walk(c.get("components", []))
        if isinstance(c.get("accessory"), dict):
            out.append(c["accessory"])
    return out


INTRO = (
    "<h1>VIDU bot: a demo session</h1>"
    "<p>Everything below was posted by the real bot process (<code>python -m bot</code>) against the bundled fake "
    "Discord and fake video provider, while three members acted through the fake's API: <b>alice</b> (English) "
    "animates a picture, re-rolls the video and then reaches her daily limit; <b>bob</b> (Chinese, zh-CN) makes a "
    "video from keyframes, cancels a request waiting behind it, has a prompt refused by the video service (the "
    "fake refuses any prompt with the word “forbidden”) and extends his video through the Extend form; the "
    "moderator <b>mod</b> sets the daily limit first and looks at <code>/quota usage</code> last. The videos are "
    "made by the fake provider from the members' own pictures. Buttons are drawn, not live. "
    "Generated {when} by <code>python -m bot demo</code>.</p>"
)


def write_page(fake: FakeDiscord, out: Path) -> Path:
    now = fake.clock.now()
    when = dt.datetime.fromtimestamp(now, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = Page(fake, now).html(INTRO.replace("{when}", when))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out

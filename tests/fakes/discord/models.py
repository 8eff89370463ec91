"""The fake's world: users, guilds, channels, messages, attachments. Plain data, no I/O."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import permissions as perms
from .errors import FakeUsageError

TEXT = 0
ANNOUNCEMENT_THREAD = 10
PUBLIC_THREAD = 11
PRIVATE_THREAD = 12
FORUM = 15
THREAD_TYPES = (ANNOUNCEMENT_THREAD, PUBLIC_THREAD, PRIVATE_THREAD)

EPHEMERAL = 1 << 6
LOADING = 1 << 7
SUPPRESS_NOTIFICATIONS = 1 << 12
IS_COMPONENTS_V2 = 1 << 15

MIB = 1024 * 1024
UPLOAD_LIMIT_BY_TIER = {0: 10 * MIB, 1: 10 * MIB, 2: 50 * MIB, 3: 100 * MIB}
# A member's own upload limit with Nitro Basic / Nitro (Discord uses the larger of it and the server's).
NITRO_BASIC_UPLOAD_LIMIT = 50 * MIB
NITRO_UPLOAD_LIMIT = 500 * MIB
ATTACHMENT_SCHEME = "attachment://"


def iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).isoformat()


@dataclass
class FakeUser:
    id: int
    username: str
    bot: bool = False
    locale: str = "en-US"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.username,
            "global_name": None if self.bot else self.username.title(),
            "discriminator": "0",
            "avatar": None,
            "bot": self.bot,
            "system": False,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
            "primary_guild": None,
            "collectibles": None,
        }

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"


@dataclass
class FakeRole:
    id: int
    name: str
    permissions: int
    position: int = 0
    hidden: bool = False  # roles made to carry add_member(permissions=...) bits

    def to_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "description": None,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }


@dataclass
class FakeMember:
    user: FakeUser
    guild: FakeGuild
    role_ids: list[int]
    joined_at: float
    # The member's own upload limit from Nitro (NITRO_BASIC_UPLOAD_LIMIT, NITRO_UPLOAD_LIMIT); None: no Nitro.
    nitro_upload_limit: int | None = None

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def attachment_size_limit(self) -> int:
        """What Discord puts in this member's interactions: the larger of their Nitro and the server's limit."""
        return max(self.nitro_upload_limit or 0, self.guild.upload_limit)

    @property
    def name(self) -> str:
        return self.user.username

    @property
    def locale(self) -> str:
        return self.user.locale

    @property
    def mention(self) -> str:
        return self.user.mention

    @property
    def permissions(self) -> int:
        """Guild-level permissions (@everyone | roles); in a channel see ``FakeChannel.permissions_for``."""
        if self.guild.owner_id == self.id:
            return perms.ALL
        bits = self.guild.everyone_role.permissions
        for role_id in self.role_ids:
            bits |= self.guild.roles[role_id].permissions
        return perms.effective(bits)

    def has(self, permission: int) -> bool:
        return self.permissions & permission == permission

    def to_json(self, *, with_user: bool = True, permissions_in: FakeChannel | None = None) -> dict[str, Any]:
        """``permissions_in``: add "permissions", this member's in that channel (as interactions carry)."""
        data: dict[str, Any] = {
            "roles": [str(r) for r in self.role_ids],
            "nick": None,
            "avatar": None,
            "banner": None,
            "joined_at": iso(self.joined_at),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.to_json()
        if permissions_in is not None:
            data["permissions"] = str(permissions_in.permissions_for(self))
        return data


@dataclass
class FakeChannel:
    id: int
    type: int
    name: str
    guild: FakeGuild
    parent_id: int | None = None
    owner_id: int | None = None
    position: int = 0
    created_at: float = 0.0
    archived: bool = False
    locked: bool = False
    invitable: bool = True
    auto_archive_duration: int = 1440
    applied_tags: list[int] = field(default_factory=list)
    thread_member_ids: set[int] = field(default_factory=set)
    # Threads have none of their own: they use their parent's (see ``overwrites``).
    permission_overwrites: list[perms.Overwrite] = field(default_factory=list)
    message_count: int = 0
    total_message_sent: int = 0
    last_message_id: int | None = None
    nsfw: bool = False  # Discord's "age-restricted channel"; threads follow their parent (not serialised)

    @property
    def is_thread(self) -> bool:
        return self.type in THREAD_TYPES

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    @property
    def parent(self) -> FakeChannel | None:
        return self.guild.channels.get(self.parent_id) if self.parent_id is not None else None

    @property
    def overwrites(self) -> list[perms.Overwrite]:
        """The overwrites that apply here: a thread's are its parent's, as on Discord."""
        if self.is_thread:
            parent = self.parent
            return parent.permission_overwrites if parent is not None else []
        return self.permission_overwrites

    def permissions_for(self, member: FakeMember) -> int:
        """``member``'s permissions in this channel: guild roles, then this channel's overwrites."""
        return perms.in_channel(
            member.permissions, self.overwrites, everyone_id=self.guild.id, role_ids=member.role_ids,
            member_id=member.id, in_thread=self.is_thread,
        )  # fmt: skip

    def allows(self, member: FakeMember, permission: int) -> bool:
        return self.permissions_for(member) & permission == permission

    def visible_to(self, user_id: int) -> bool:
        """Who may see the channel: VIEW_CHANNEL here; private threads also only for their members and
        for those who may manage threads."""
        member = self.guild.members.get(user_id)
        if member is None or not self.allows(member, perms.VIEW_CHANNEL):
            return False
        if self.type != PRIVATE_THREAD or user_id in self.thread_member_ids:
            return True
        return self.allows(member, perms.MANAGE_THREADS)

    def set_overwrite(self, target: FakeRole | FakeMember, *, allow: int = 0, deny: int = 0) -> perms.Overwrite:
        """Replace ``target``'s overwrite here (the @everyone role is ``guild.everyone_role``). Changes only
        the model: on a running fake, ``await fake.set_overwrite(...)`` also sends CHANNEL_UPDATE."""
        if self.is_thread:
            raise FakeUsageError(f"thread {self.name!r} has no overwrites of its own: set them on its parent")
        if allow & deny:
            raise FakeUsageError(f"overwrite on {self.name!r} both allows and denies bits {allow & deny:#x}")
        kind = perms.ROLE if isinstance(target, FakeRole) else perms.MEMBER
        overwrite = perms.Overwrite(target.id, kind, allow, deny)
        self.remove_overwrite(target)
        self.permission_overwrites.append(overwrite)
        return overwrite

    def remove_overwrite(self, target: FakeRole | FakeMember) -> None:
        self.permission_overwrites = [o for o in self.permission_overwrites if o.id != target.id]

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild.id),
            "name": self.name,
            "flags": 0,
            "last_message_id": str(self.last_message_id) if self.last_message_id else None,
            "rate_limit_per_user": 0,
        }
        if self.is_thread:
            data.update(
                parent_id=str(self.parent_id),
                owner_id=str(self.owner_id),
                message_count=self.message_count,
                total_message_sent=self.total_message_sent,
                member_count=len(self.thread_member_ids),
                applied_tags=[str(t) for t in self.applied_tags],
                thread_metadata={
                    "archived": self.archived,
                    "auto_archive_duration": self.auto_archive_duration,
                    "archive_timestamp": iso(self.created_at),
                    "locked": self.locked,
                    "invitable": self.invitable,
                    "create_timestamp": iso(self.created_at),
                },
            )
        else:
            data.update(
                position=self.position,
                permission_overwrites=[o.to_json() for o in self.permission_overwrites],
                parent_id=None,
                nsfw=self.nsfw,
                topic=None,
                default_auto_archive_duration=1440,
                default_thread_rate_limit_per_user=0,
            )
            if self.type == FORUM:
                data.update(
                    available_tags=[],
                    default_reaction_emoji=None,
                    default_sort_order=None,
                    default_forum_layout=0,
                )
        return data


@dataclass
class FakeGuild:
    id: int
    name: str
    owner_id: int
    premium_tier: int = 0
    preferred_locale: str = "en-US"
    # Replaces the boost tier's upload limit (see ``upload_limit``); None: the tier's.
    upload_limit_override: int | None = None
    roles: dict[int, FakeRole] = field(default_factory=dict)
    members: dict[int, FakeMember] = field(default_factory=dict)
    channels: dict[int, FakeChannel] = field(default_factory=dict)
    # Set by FakeDiscord: creates ids, users, and dispatches gateway events for changes made here.
    _new_id: Callable[[], int] = field(default=lambda: 0, repr=False)
    _now: Callable[[], float] = field(default=lambda: 0.0, repr=False)
    _on_member_added: Callable[[FakeMember], None] = field(default=lambda m: None, repr=False)
    _on_channel_added: Callable[[FakeChannel], None] = field(default=lambda c: None, repr=False)

    @property
    def everyone_role(self) -> FakeRole:
        return self.roles[self.id]

    @property
    def upload_limit(self) -> int:
        """The server's upload limit: its boost tier's, unless a test set one (``guild.upload_limit = n``).
        discord.py's ``Guild.filesize_limit`` only knows the tier's, so a bot reading it sees the tier's."""
        if self.upload_limit_override is not None:
            return self.upload_limit_override
        return UPLOAD_LIMIT_BY_TIER[self.premium_tier]

    @upload_limit.setter
    def upload_limit(self, value: int | None) -> None:
        self.upload_limit_override = value

    def role(self, name: str) -> FakeRole:
        for role in self.roles.values():
            if role.name == name:
                return role
        raise KeyError(f"no role named {name!r} in guild {self.name!r}")

    def member(self, name: str) -> FakeMember:
        for member in self.members.values():
            if member.name == name:
                return member
        raise KeyError(f"no member named {name!r} in guild {self.name!r}")

    def channel(self, name: str) -> FakeChannel:
        for channel in self.channels.values():
            if channel.name == name:
                return channel
        raise KeyError(f"no channel named {name!r} in guild {self.name!r}")

    def add_role(self, name: str, permissions: int = 0) -> FakeRole:
        role = FakeRole(self._new_id(), name, permissions, position=len(self.roles))
        self.roles[role.id] = role
        return role

    def add_member(
        self,
        name: str,
        *,
        roles: list[FakeRole | str] | tuple[FakeRole | str, ...] = (),
        permissions: int = 0,
        locale: str = "en-US",
        bot: bool = False,
        nitro_upload_limit: int | None = None,
    ) -> FakeMember:
        """A member joins. ``permissions`` are granted through a role of their own, as Discord would.
        ``nitro_upload_limit``: their Nitro's upload limit (NITRO_UPLOAD_LIMIT...), None for no Nitro."""
        role_ids = [r.id if isinstance(r, FakeRole) else self.role(r).id for r in roles]
        if permissions:
            own = self.add_role(f"{name}'s permissions", permissions)
            own.hidden = True
            role_ids.append(own.id)
        user = FakeUser(self._new_id(), name, bot=bot, locale=locale)
        member = FakeMember(user, self, role_ids, joined_at=self._now(), nitro_upload_limit=nitro_upload_limit)
        self.members[user.id] = member
        self._on_member_added(member)
        return member

    def _add_channel(self, type_: int, name: str, **kwargs: Any) -> FakeChannel:
        channel = FakeChannel(
            self._new_id(), type_, name, self, position=len(self.channels), created_at=self._now(), **kwargs
        )
        self.channels[channel.id] = channel
        return channel

    def add_text_channel(self, name: str, *, nsfw: bool = False) -> FakeChannel:
        channel = self._add_channel(TEXT, name)
        channel.nsfw = nsfw
        self._on_channel_added(channel)
        return channel

    def add_forum_channel(self, name: str) -> FakeChannel:
        channel = self._add_channel(FORUM, name)
        self._on_channel_added(channel)
        return channel

    def threads(self) -> list[FakeChannel]:
        return [c for c in self.channels.values() if c.is_thread]

    def to_json(self, *, full: bool) -> dict[str, Any]:
        """``full``: the GUILD_CREATE shape (with channels, members, threads); else GET /guilds/{id}."""
        data: dict[str, Any] = {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "region": "deprecated",
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [r.to_json() for r in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "premium_tier": self.premium_tier,
            "premium_subscription_count": 0,
            "preferred_locale": self.preferred_locale,
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "max_members": 500000,
            "max_video_channel_users": 25,
            "safety_alerts_channel_id": None,
        }
        if full:
            data.update(
                joined_at=iso(self._now()),
                large=False,
                unavailable=False,
                member_count=len(self.members),
                voice_states=[],
                members=[m.to_json() for m in self.members.values()],
                channels=[c.to_json() for c in self.channels.values() if not c.is_thread],
                threads=[c.to_json() for c in self.channels.values() if c.is_thread and not c.archived],
                presences=[],
                stage_instances=[],
                guild_scheduled_events=[],
                soundboard_sounds=[],
            )
        return data


SPOILER_PREFIX = "SPOILER_"
IS_SPOILER = 1 << 3  # attachment flag


@dataclass
class StoredAttachment:
    """A file held by the fake CDN: uploaded by the bot in a message or by a member for an interaction."""

    id: int
    channel_id: int
    filename: str
    content: bytes = field(repr=False)  # may be megabytes: keep assertion output readable
    content_type: str | None = None
    description: str | None = None
    width: int | None = None
    height: int | None = None

    @property
    def size(self) -> int:
        return len(self.content)

    @property
    def spoiler(self) -> bool:
        """Uploaded as ``SPOILER_<name>`` (discord.py's ``File(spoiler=True)``): Discord flags it IS_SPOILER and
        hides it until clicked."""
        return self.filename.startswith(SPOILER_PREFIX)


@dataclass
class MessageRevision:
    at: float
    content: str
    embeds: list[dict[str, Any]]
    components: list[dict[str, Any]]
    flags: int
    attachment_ids: list[int]


@dataclass
class SentMessage:
    id: int
    channel_id: int
    guild_id: int
    author_id: int
    content: str
    embeds: list[dict[str, Any]]
    components: list[dict[str, Any]]
    flags: int
    attachments: list[StoredAttachment]
    created_at: float
    nonce: str | int | None = None
    mentions: list[int] = field(default_factory=list)
    mention_roles: list[int] = field(default_factory=list)
    mention_everyone: bool = False
    allowed_mentions: dict[str, Any] | None = None
    message_reference: dict[str, Any] | None = None
    type: int = 0
    webhook_id: int | None = None
    interaction_id: int | None = None
    visible_to: int | None = None  # the only member who sees an ephemeral message
    edits: list[MessageRevision] = field(default_factory=list)
    edited_at: float | None = None
    deleted: bool = False
    thread_id: int | None = None
    reactions: dict[str, set[int]] = field(default_factory=dict)
    pinned: bool = False

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        return bool(self.flags & LOADING)

    @property
    def filenames(self) -> list[str]:
        return [a.filename for a in self.attachments]

    def visible_for(self, user_id: int) -> bool:
        return self.visible_to is None or self.visible_to == user_id

    def text(self) -> str:
        """Everything a reader sees as text: content, embed texts and Components V2 text displays."""
        parts = [self.content]
        for embed in self.embeds:
            parts += [str(embed.get(k, "")) for k in ("title", "description")]
            parts += [f"{f.get('name', '')} {f.get('value', '')}" for f in embed.get("fields", [])]
            footer = embed.get("footer") or {}
            parts.append(str(footer.get("text", "")))
        parts += _component_texts(self.components)
        return "\n".join(p for p in parts if p)

    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for c in walk_components(self.components) if "custom_id" in c]

    def button_labels(self) -> list[str]:
        """The buttons' labels in reading order, wherever they sit (a row, a container's row, a section)."""
        return [str(c.get("label", "")) for c in walk_components(self.components) if c.get("type") == 2]

    def media_urls(self) -> list[str]:
        """The urls of the V2 media gallery items, thumbnails and file components, in reading order, as
        sent (``attachment://name`` for the message's own files)."""
        return [str(media.get("url")) for _, media in media_items(self.components)]

    def gallery_spoilers(self) -> list[bool]:
        """For each V2 media gallery item, in reading order: whether the item itself is flagged as a spoiler."""
        return [bool(item.get("spoiler")) for c in walk_components(self.components) if c.get("type") == 12
                for item in c.get("items") or []]

    def hidden_attachments(self) -> list[StoredAttachment]:
        """A V2 message's attachments no component shows (no gallery item, thumbnail or file names them):
        Discord accepts them, but no reader sees them. Always empty for a message without IS_COMPONENTS_V2."""
        if not self.flags & IS_COMPONENTS_V2:
            return []
        shown = {u[len(ATTACHMENT_SCHEME) :] for u in self.media_urls() if u.startswith(ATTACHMENT_SCHEME)}
        return [a for a in self.attachments if a.filename not in shown]


def walk_components(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every component in a tree, depth first: rows, containers, sections and their accessories, labels."""
    found: list[dict[str, Any]] = []
    for component in components:
        found.append(component)
        found += walk_components(component.get("components") or [])
        for key in ("accessory", "component"):
            child = component.get(key)
            if isinstance(child, dict):
                found += walk_components([child])
    return found


def media_items(components: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(component, unfurled media item) for every gallery item, thumbnail and file in a tree, in order."""
    found = []
    for c in walk_components(components):
        if c.get("type") == 12:  # media gallery
            found += [(c, item["media"]) for item in c.get("items") or [] if isinstance(item.get("media"), dict)]
        elif isinstance(c.get("media"), dict) and c.get("type") == 11:  # thumbnail
            found.append((c, c["media"]))
        elif isinstance(c.get("file"), dict) and c.get("type") == 13:  # file
            found.append((c, c["file"]))
    return found


def _component_texts(components: list[dict[str, Any]]) -> list[str]:
    texts = []
    for c in walk_components(components):
        if c.get("type") == 10 and c.get("content"):
            texts.append(str(c["content"]))
        elif c.get("label"):
            texts.append(str(c["label"]))
    return texts


def component_texts(components: list[dict[str, Any]]) -> list[str]:
    """The text displays' contents (where mentions ping, as in content)."""
    return [str(c["content"]) for c in walk_components(components) if c.get("type") == 10 and c.get("content")]

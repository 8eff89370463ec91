"""A member's own defaults in a server (/settings): resolution, duration, movement, private, and whether to
confirm the cost before a paid request. Discord-free: the cogs and forms read them through `choose`, which
says for each setting where its value came from, and explains a stored default that does not fit the kind
of request (a 540p default on a video from one picture, 10 s on a keyframes segment) instead of applying it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Protocol

from bot.i18n.catalog import DEFAULT_LOCALE, t
from bot.provider.models import (
    DEFAULT_SEGMENT_SECONDS,
    FAST_DURATION_RANGE,
    FAST_RESOLUTIONS,
    MOVEMENT_AMPLITUDES,
    MULTIFRAME_RESOLUTIONS,
    SEGMENT_DURATION_RANGE,
    STARTEND_DURATION_RANGE,
    STARTEND_RESOLUTIONS,
)

# What /settings offers, as the commands do (bot/provider/models.py): every resolution and movement a kind
# takes, and the widest duration range. Whether a value fits one kind of request is `choose`'s question.
SETTING_RESOLUTIONS = MULTIFRAME_RESOLUTIONS
SETTING_MOVEMENTS = MOVEMENT_AMPLITUDES
SETTING_DURATION_RANGE = FAST_DURATION_RANGE
REQUEST_SETTINGS = ("resolution", "duration", "movement", "private")  # what a request may leave to defaults


@dataclass(frozen=True)
class MemberSettings:
    """One member's defaults in one server; None: not set (the bot's own default applies)."""

    resolution: str | None = None
    duration: int | None = None
    movement: str | None = None
    private: bool | None = None
    confirm_cost: bool | None = None

    def is_empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))

    def changed(self, changes: Mapping[str, object]) -> MemberSettings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def confirms(self) -> bool:
        return bool(self.confirm_cost)


SETTING_NAMES = tuple(f.name for f in fields(MemberSettings))


class MemberSettingsStore(Protocol):
    """Both SQL stores keep them (bot/db/sql_member_settings.py, migration V12)."""

    async def member_settings(self, guild_id: int, user_id: int) -> MemberSettings:
        """The member's defaults here (all None when they set none)."""
        ...

    async def update_member_settings(self, guild_id: int, user_id: int, changes: Mapping[str, object | None], *,
                                     now: datetime) -> MemberSettings:
        """Set the named settings (None clears one) in one transaction; returns the settings now in force."""
        ...

    async def reset_member_settings(self, guild_id: int, user_id: int) -> bool:
        """Forget every default of the member here; False when there were none."""
        ...


@dataclass(frozen=True)
class KindRules:
    """What one kind of request takes, for checking a member's defaults against it."""

    kind_key: str  # the catalog key naming the kind ("a video from one picture")
    resolutions: tuple[str, ...]
    durations: tuple[int, int]  # seconds of the video, or of each segment (`per_segment`)
    per_segment: bool
    movements: tuple[str, ...] | None  # None: the kind has no movement setting
    default_duration: int = 5


IMG2VIDEO_RULES = KindRules("settings.kind_img2video", FAST_RESOLUTIONS, FAST_DURATION_RANGE, False,
                            MOVEMENT_AMPLITUDES)
MULTIFRAME_RULES = KindRules("settings.kind_multiframe", MULTIFRAME_RESOLUTIONS, SEGMENT_DURATION_RANGE, True, None,
                             default_duration=DEFAULT_SEGMENT_SECONDS)
# A start and an end picture: the start-end endpoint's range; its movement is the bot's word (`high` is sent as
# the endpoint's `large`, bot/requests.py).
STARTEND_RULES = KindRules("settings.kind_startend", STARTEND_RESOLUTIONS, STARTEND_DURATION_RANGE, False,
                           MOVEMENT_AMPLITUDES, default_duration=DEFAULT_SEGMENT_SECONDS)


def keyframe_rules(key_count: int) -> KindRules:
    """A start and one end picture is a start-end request; more keyframes a multiframe one."""
    return STARTEND_RULES if key_count == 1 else MULTIFRAME_RULES


BUILT_IN = MemberSettings(resolution="720p", duration=5, movement="auto", private=False, confirm_cost=False)


@dataclass(frozen=True)
class Unfit:
    """A stored default this kind of request cannot take: what it was, what the kind takes, what is used."""

    setting: str
    value: str
    allowed: str
    used: str


@dataclass(frozen=True)
class Choices:
    """What a request uses for each setting it may leave out, and where those values came from."""

    resolution: str
    duration: int
    movement: str
    private: bool
    from_settings: tuple[str, ...] = ()  # the member's defaults that were used, in REQUEST_SETTINGS order
    unfit: tuple[Unfit, ...] = ()
    locale: str = DEFAULT_LOCALE  # the member's, which `unfit` is worded in

    def notes(self) -> tuple[str, ...]:
        """Lines for the request card (and the confirmation): which values are the member's defaults, and
        each default that did not fit, explained."""
        locale = self.locale
        lines: list[str] = []
        if self.from_settings:
            shown = [shown_value(name, getattr(self, name), locale) for name in self.from_settings]
            lines.append(t("settings.card_used", locale, values=" · ".join(shown)))
        lines += [t("settings.card_unfit", locale, setting=t(f"settings.name_{u.setting}", locale), value=u.value,
                    allowed=u.allowed, used=u.used) for u in self.unfit]
        return tuple(lines)


def choose(rules: KindRules, settings: MemberSettings, *, locale: str = DEFAULT_LOCALE,
           given: Mapping[str, object | None] | None = None) -> Choices:
    """Each of REQUEST_SETTINGS: what the member gave in this request (`given`, None: left out), else their
    default when this kind takes it, else the bot's own. `locale` words the kind in an unfit default's note."""
    given = dict(given or {})
    chosen: dict[str, object] = {}
    used: list[str] = []
    unfit: list[Unfit] = []
    kind = t(rules.kind_key, locale)
    for name in REQUEST_SETTINGS:
        built_in = rules.default_duration if name == "duration" else getattr(BUILT_IN, name)
        if given.get(name) is not None:
            chosen[name] = given[name]
            continue
        mine = getattr(settings, name)
        if mine is None or (name == "movement" and rules.movements is None):
            chosen[name] = built_in  # not set, or not a setting of this kind (keyframes have no movement)
            continue
        allowed = allowed_for(rules, name, mine, locale)
        if allowed is None:
            chosen[name] = mine
            used.append(name)
            continue
        chosen[name] = built_in
        unfit.append(Unfit(name, shown_value(name, mine, locale),
                           t("settings.allowed_in", locale, kind=kind, allowed=allowed),
                           shown_value(name, built_in, locale)))
    return Choices(resolution=str(chosen["resolution"]), duration=int(str(chosen["duration"])),
                   movement=str(chosen["movement"]), private=bool(chosen["private"]), from_settings=tuple(used),
                   unfit=tuple(unfit), locale=locale)


def allowed_for(rules: KindRules, name: str, value: object, locale: str = DEFAULT_LOCALE) -> str | None:
    """None when this kind of request takes `value` for the setting `name`; else what it takes, in words."""
    if name == "resolution" and value not in rules.resolutions:
        return t("settings.or", locale).join(rules.resolutions)
    if name == "duration":
        low, high = rules.durations
        if not (isinstance(value, int) and low <= value <= high):
            return t("settings.seconds_range", locale, low=low, high=high)
    if name == "movement" and rules.movements is not None and value not in rules.movements:
        return ", ".join(rules.movements)
    return None


def not_taken_by(rules: KindRules, name: str, value: object, locale: str = DEFAULT_LOCALE) -> str | None:
    """For /settings show: why this kind of request will not use the member's `value` of `name`, or None."""
    kind = t(rules.kind_key, locale)
    if name == "movement" and rules.movements is None:
        return t("settings.not_for_none", locale, kind=kind)
    allowed = allowed_for(rules, name, value, locale)
    return None if allowed is None else t("settings.not_for", locale, kind=kind, allowed=allowed)


def shown_value(name: str, value: object, locale: str = DEFAULT_LOCALE) -> str:
    """A setting's value as members read it: "8 s", "1080p", "movement high", "private", "confirm first"."""
    if name == "duration":
        return t("card.seconds", locale, seconds=value)
    if name == "movement":
        return t("card.movement", locale, movement=value)
    if name in ("private", "confirm_cost"):
        return t(f"settings.{name}_{'on' if value else 'off'}", locale)
    return str(value)

"""Interaction records and Discord's rules for answering them: 3 s to acknowledge, one acknowledgement,
a modal only as the first answer, interaction tokens valid for 15 minutes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import (
    ALREADY_ACKNOWLEDGED,
    INVALID_WEBHOOK_TOKEN,
    UNKNOWN_INTERACTION,
    DiscordAPIError,
)

PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5

PONG = 1
CHANNEL_MESSAGE_WITH_SOURCE = 4
DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
APPLICATION_COMMAND_AUTOCOMPLETE_RESULT = 8
MODAL = 9

ACK_DEADLINE = 3.0
TOKEN_LIFETIME = 15 * 60

# Which callback types each interaction type may receive (Discord's table).
ALLOWED_CALLBACKS = {
    APPLICATION_COMMAND: {CHANNEL_MESSAGE_WITH_SOURCE, DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE, MODAL},
    MESSAGE_COMPONENT: {
        CHANNEL_MESSAGE_WITH_SOURCE, DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE, DEFERRED_UPDATE_MESSAGE,
        UPDATE_MESSAGE, MODAL,
    },
    AUTOCOMPLETE: {APPLICATION_COMMAND_AUTOCOMPLETE_RESULT},
    MODAL_SUBMIT: {
        CHANNEL_MESSAGE_WITH_SOURCE, DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE, DEFERRED_UPDATE_MESSAGE,
        UPDATE_MESSAGE,
    },
}  # fmt: skip


@dataclass
class InteractionResponse:
    type: int
    data: dict[str, Any] | None
    at: float


@dataclass
class InteractionRecord:
    """One interaction sent to the bot, and everything the bot answered to it."""

    id: int
    type: int
    name: str  # command name, custom_id of a component or modal
    guild_id: int
    channel_id: int
    user_id: int
    created_at: float
    payload: dict[str, Any] = field(repr=False)
    token: str = field(repr=False)
    message_id: int | None = None  # the message a component lives on
    responses: list[InteractionResponse] = field(default_factory=list)
    original_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    modal: dict[str, Any] | None = None
    # Where INTERACTION_CREATE went: the shard of the gateway session it was sent (or queued for RESUME)
    # to, and that session's id; both None when no session held the guild's shard (nobody will answer).
    shard: tuple[int, int] | None = None
    session_id: str | None = field(default=None, repr=False)
    delivered: bool = False  # written to an open socket at once (False: queued for a RESUME, or nobody)

    @property
    def acknowledged(self) -> bool:
        return bool(self.responses)

    @property
    def response_type(self) -> int | None:
        return self.responses[0].type if self.responses else None

    def check_can_acknowledge(self, now: float, callback_type: int) -> None:
        if self.acknowledged:
            raise DiscordAPIError(400, ALREADY_ACKNOWLEDGED, "Interaction has already been acknowledged.")
        if now - self.created_at > ACK_DEADLINE:
            raise DiscordAPIError(404, UNKNOWN_INTERACTION, "Unknown interaction")
        if callback_type not in ALLOWED_CALLBACKS.get(self.type, set()):
            raise DiscordAPIError(
                400, 50035,
                f"Invalid Form Body: type: callback type {callback_type} is not valid for interaction "
                f"type {self.type}",
            )  # fmt: skip

    def check_token_alive(self, now: float) -> None:
        if now - self.created_at > TOKEN_LIFETIME:
            raise DiscordAPIError(401, INVALID_WEBHOOK_TOKEN, "Invalid Webhook Token")

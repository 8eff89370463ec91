"""Answering interactions: the callback, followups and the original response (token-authenticated)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from .errors import (
    INVALID_WEBHOOK_TOKEN,
    UNKNOWN_INTERACTION,
    UNKNOWN_MESSAGE,
    UNKNOWN_WEBHOOK,
    DiscordAPIError,
    invalid_form_body,
    unknown,
)
from .fake import json_response
from .interactions import (
    APPLICATION_COMMAND,
    CHANNEL_MESSAGE_WITH_SOURCE,
    DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
    DEFERRED_UPDATE_MESSAGE,
    MODAL,
    UPDATE_MESSAGE,
    InteractionRecord,
    InteractionResponse,
)
from .messages import apply_edit, build_message, message_json
from .modals import check_modal
from .models import EPHEMERAL, LOADING, SentMessage
from .requests import checked_body, json_object, snowflake

if TYPE_CHECKING:
    from .fake import FakeDiscord

CHAT_INPUT_COMMAND_MESSAGE, CONTEXT_MENU_COMMAND_MESSAGE = 20, 23


def add_routes(app: web.Application, fake: FakeDiscord, prefix: str) -> None:
    h = _Handlers(fake)
    add = app.router.add_route
    add("POST", prefix + "/interactions/{interaction_id}/{interaction_token}/callback", h.callback)
    add("POST", prefix + "/webhooks/{webhook_id}/{webhook_token}", h.followup)
    for suffix in ("@original", "{message_id}"):
        path = prefix + "/webhooks/{webhook_id}/{webhook_token}/messages/" + suffix
        add("GET", path, h.get_message)
        add("PATCH", path, h.edit_message)
        add("DELETE", path, h.delete_message)


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true")


class _Handlers:
    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake

    # --- the callback --------------------------------------------------------------------------------

    async def callback(self, request: web.Request) -> web.Response:
        fake = self.fake
        ix = fake.interactions.get(snowflake(request, "interaction_id"))
        if ix is None or ix.token != request.match_info["interaction_token"]:
            raise DiscordAPIError(404, UNKNOWN_INTERACTION, "Unknown interaction")
        body = await checked_body(fake, request)
        payload = json_object(body)
        kind = payload.get("type")
        if not isinstance(kind, int):
            raise invalid_form_body("type", "This field is required", "BASE_TYPE_REQUIRED")
        now = fake.clock.now()
        ix.check_can_acknowledge(now, kind)
        data = payload.get("data") or {}
        message: SentMessage | None = None
        if kind == CHANNEL_MESSAGE_WITH_SOURCE:
            message = await self._new_message(ix, data, body.files, loading=False)
        elif kind == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE:
            message = await self._new_message(ix, data, [], loading=True)
        elif kind == UPDATE_MESSAGE:
            message = self._component_message(ix)
            await apply_edit(fake, message, data, body.files, self._limit(ix))
        elif kind == DEFERRED_UPDATE_MESSAGE:
            message = self._component_message(ix)
        elif kind == MODAL:
            check_modal(data)
            ix.modal = data
        ix.responses.append(InteractionResponse(kind, data, now))
        if message is not None and ix.original_message_id is None:
            ix.original_message_id = message.id
        if kind == UPDATE_MESSAGE and message is not None:
            await fake.announce_edit(message)
        elif message is not None and kind != DEFERRED_UPDATE_MESSAGE:
            await fake.store_message(message)
        await fake.touch()
        if not _truthy(request.query.get("with_response")):
            return web.Response(status=204)
        answer: dict[str, Any] = {
            "interaction": {
                "id": str(ix.id), "type": ix.type,
                "response_message_id": str(message.id) if message else None,
                "response_message_loading": kind == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
                "response_message_ephemeral": bool(message and message.ephemeral),
            },
            "resource": {"type": kind},
        }  # fmt: skip
        if message is not None:
            answer["resource"]["message"] = message_json(fake, message)
        return json_response(answer)

    def _limit(self, ix: InteractionRecord) -> int:
        return int(ix.payload["attachment_size_limit"])

    def _component_message(self, ix: InteractionRecord) -> SentMessage:
        if ix.message_id is None:
            raise invalid_form_body("type", "Only component and modal interactions on a message can update it.")
        return self.fake.message(ix.message_id)

    async def _new_message(
        self, ix: InteractionRecord, data: dict[str, Any], files: list[Any], *, loading: bool
    ) -> SentMessage:
        msg_type = 0
        if ix.type == APPLICATION_COMMAND:
            command_type = ix.payload["data"].get("type", 1)
            msg_type = CHAT_INPUT_COMMAND_MESSAGE if command_type == 1 else CONTEXT_MENU_COMMAND_MESSAGE
        if loading:
            # A deferral only carries flags (ephemeral or not); the content comes with the edit.
            data = {"flags": int(data.get("flags") or 0) & EPHEMERAL}
        return await build_message(
            self.fake, channel_id=ix.channel_id, author_id=self.fake.bot_user.id, payload=data, files=files,
            upload_limit=self._limit(ix), msg_type=msg_type, webhook_id=self.fake.application_id,
            interaction_id=ix.id, visible_to=ix.user_id, extra_flags=LOADING if loading else 0,
        )  # fmt: skip

    # --- webhook routes (interaction token) ----------------------------------------------------------

    def _interaction(self, request: web.Request) -> InteractionRecord:
        fake = self.fake
        if snowflake(request, "webhook_id") != fake.application_id:
            raise unknown("Webhook", UNKNOWN_WEBHOOK)
        ix = fake.interaction_by_token(request.match_info["webhook_token"])
        if ix is None:
            raise DiscordAPIError(401, INVALID_WEBHOOK_TOKEN, "Invalid Webhook Token")
        ix.check_token_alive(fake.clock.now())
        if not ix.acknowledged:
            raise unknown("Webhook", UNKNOWN_WEBHOOK)  # followups exist only after the acknowledgement
        return ix

    def _target(self, request: web.Request, ix: InteractionRecord) -> SentMessage:
        raw = request.match_info.get("message_id")
        if raw is None:  # @original
            if ix.original_message_id is None:
                raise unknown("Message", UNKNOWN_MESSAGE)
            return self.fake.message(ix.original_message_id)
        message_id = snowflake(request, "message_id")
        if message_id != ix.original_message_id and message_id not in ix.followup_ids:
            raise unknown("Message", UNKNOWN_MESSAGE)
        return self.fake.message(message_id)

    async def followup(self, request: web.Request) -> web.Response:
        fake = self.fake
        ix = self._interaction(request)
        body = await checked_body(fake, request)
        payload = json_object(body)
        original = fake._messages.get(ix.original_message_id or 0)
        if original is not None and original.loading and not original.deleted:
            # Discord: the first followup after a deferral fills the "thinking" message.
            await apply_edit(fake, original, payload, body.files, self._limit(ix))
            await fake.announce_edit(original)
            message = original
        else:
            message = await build_message(
                fake, channel_id=ix.channel_id, author_id=fake.bot_user.id, payload=payload, files=body.files,
                upload_limit=self._limit(ix), webhook_id=fake.application_id, interaction_id=ix.id,
                visible_to=ix.user_id,
            )  # fmt: skip
            ix.followup_ids.append(message.id)
            await fake.store_message(message)
        if not _truthy(request.query.get("wait")):
            return web.Response(status=204)
        return json_response(message_json(fake, message))

    async def get_message(self, request: web.Request) -> web.Response:
        ix = self._interaction(request)
        return json_response(message_json(self.fake, self._target(request, ix)))

    async def edit_message(self, request: web.Request) -> web.Response:
        fake = self.fake
        ix = self._interaction(request)
        message = self._target(request, ix)
        body = await checked_body(fake, request)
        await apply_edit(fake, message, json_object(body), body.files, self._limit(ix))
        await fake.announce_edit(message)
        return json_response(message_json(fake, message))

    async def delete_message(self, request: web.Request) -> web.Response:
        fake = self.fake
        ix = self._interaction(request)
        message = self._target(request, ix)
        message.deleted = True
        if not message.ephemeral:
            await fake.emit(
                "MESSAGE_DELETE",
                {"id": str(message.id), "channel_id": str(message.channel_id), "guild_id": str(message.guild_id)},
            )
        await fake.touch()
        return web.Response(status=204)

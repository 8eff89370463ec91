"""Components V2: each rule Discord enforces on a layout message (400 50035 naming the field), a full card
accepted and read back through discord.py, and the upload limit an interaction carries (member's Nitro)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest
from PIL import Image

from tests.fakes.discord import IS_COMPONENTS_V2, FakeDiscord, build_test_server

from .raw import edit_message, post_message
from .tiny_bot import TinyBot

KIB = 1024


def png(colour: str = "red", size: tuple[int, int] = (8, 6)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def text(content: str = "hello") -> dict[str, Any]:
    return {"type": 10, "content": content}


def button(custom_id: str = "go", **fields: Any) -> dict[str, Any]:
    return {"type": 2, "style": 1, "label": "Go", "custom_id": custom_id, **fields}


def row(*components: dict[str, Any]) -> dict[str, Any]:
    return {"type": 1, "components": list(components)}


def box(*components: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"type": 17, "components": list(components), **fields}


def gallery(*urls: str, **item: Any) -> dict[str, Any]:
    return {"type": 12, "items": [{"media": {"url": u}, **item} for u in urls]}


def section(*texts: dict[str, Any], accessory: dict[str, Any] | None) -> dict[str, Any]:
    data: dict[str, Any] = {"type": 9, "components": list(texts)}
    if accessory is not None:
        data["accessory"] = accessory
    return data


def thumbnail(url: str) -> dict[str, Any]:
    return {"type": 11, "media": {"url": url}}


def the_error(body: dict[str, Any]) -> tuple[str, str]:
    """(field path, Discord's error code) of a 50035 answer's single error."""
    path, errors = [], body["errors"]
    while "_errors" not in errors:
        key = next(iter(errors))
        path.append(key)
        errors = errors[key]
    return ".".join(path), errors["_errors"][0]["code"]


PICTURE = [("a.png", png())]
WEB = "https://example.com/cat.png"
REFUSED = [
    # what may go where
    ("thumbnail at the top", [thumbnail(WEB)], [], "components.0.type", "UNION_TYPE_CHOICES"),
    ("bare button at the top", [button()], [], "components.0.type", "UNION_TYPE_CHOICES"),
    ("text input at the top", [{"type": 4, "custom_id": "t", "style": 1}], [], "components.0.type",
     "UNION_TYPE_CHOICES"),
    ("label at the top", [{"type": 18, "label": "x", "component": text()}], [], "components.0.type",
     "UNION_TYPE_CHOICES"),
    ("container in a container", [box(text(), text(), box(text()))], [], "components.0.components.2.type",
     "UNION_TYPE_CHOICES"),
    ("text display in a row", [row(text())], [], "components.0.components.0.type", "UNION_TYPE_CHOICES"),
    ("text input in a row", [row({"type": 4, "custom_id": "t", "style": 1, "label": "x"})], [],
     "components.0.components.0.type", "UNION_TYPE_CHOICES"),
    ("not an object", [box("hello")], [], "components.0.components.0", "MODEL_TYPE_CONVERT"),  # type: ignore[arg-type]
    # action rows and buttons
    ("empty row", [row()], [], "components.0.components", "BASE_TYPE_BAD_LENGTH"),
    ("six buttons", [row(*[button(f"b{i}") for i in range(6)])], [], "components.0.components",
     "BASE_TYPE_BAD_LENGTH"),
    ("select beside a button", [row({"type": 3, "custom_id": "s", "options": [{"label": "a", "value": "a"}]},
                                    button())], [], "components.0.components.1", "COMPONENT_LAYOUT_WIDTH_EXCEEDED"),
    ("label of 81", [box(row(button(label="x" * 81)))], [], "components.0.components.0.components.0.label",
     "BASE_TYPE_MAX_LENGTH"),
    ("custom id of 101", [row(button("x" * 101))], [], "components.0.components.0.custom_id",
     "BASE_TYPE_BAD_LENGTH"),
    ("no custom id", [row({"type": 2, "style": 2, "label": "x"})], [], "components.0.components.0.custom_id",
     "BASE_TYPE_REQUIRED"),
    ("empty custom id", [row(button(""))], [], "components.0.components.0.custom_id", "BASE_TYPE_BAD_LENGTH"),
    ("link without url", [row({"type": 2, "style": 5, "label": "x"})], [], "components.0.components.0.url",
     "BASE_TYPE_REQUIRED"),
    ("link with custom id", [row({"type": 2, "style": 5, "label": "x", "url": WEB, "custom_id": "l"})], [],
     "components.0.components.0.custom_id", "BUTTON_CANNOT_HAVE_CUSTOM_ID"),
    ("url on a plain button", [row(button(url=WEB))], [], "components.0.components.0.url",
     "BUTTON_CANNOT_HAVE_URL"),
    ("premium without sku", [row({"type": 2, "style": 6})], [], "components.0.components.0.sku_id",
     "BASE_TYPE_REQUIRED"),
    ("style 7", [row(button(style=7))], [], "components.0.components.0.style", "BASE_TYPE_CHOICES"),
    ("custom id twice in a message", [box(row(button("again"))), section(text(), accessory=button("again"))], [],
     "components.1.accessory.custom_id", "COMPONENT_CUSTOM_ID_DUPLICATED"),
    ("id twice in a message", [box({**text(), "id": 7}), {**text(), "id": 7}], [], "components.1.id",
     "COMPONENT_ID_DUPLICATED"),
    ("id not an integer", [{**text(), "id": "7"}], [], "components.0.id", "NUMBER_TYPE_COERCE"),
    # text displays
    ("empty text", [text("")], [], "components.0.content", "BASE_TYPE_BAD_LENGTH"),
    ("text not a string", [text(5)], [], "components.0.content", "BASE_TYPE_STRING"),  # type: ignore[arg-type]
    ("text of 4001", [text("x" * 4001)], [], "components.0.content", "BASE_TYPE_BAD_LENGTH"),
    ("4001 characters of text in all", [text("x" * 2000), box(text("y" * 2000), text("z"))], [], "components",
     "BASE_TYPE_MAX_LENGTH"),
    # sections
    ("section of 4 texts", [section(*[text()] * 4, accessory=thumbnail(WEB))], [], "components.0.components",
     "BASE_TYPE_BAD_LENGTH"),
    ("section without text", [section(accessory=thumbnail(WEB))], [], "components.0.components",
     "BASE_TYPE_BAD_LENGTH"),
    ("gallery in a section", [section(gallery(WEB), accessory=thumbnail(WEB))], [],
     "components.0.components.0.type", "UNION_TYPE_CHOICES"),
    ("section without accessory", [section(text(), accessory=None)], [], "components.0.accessory",
     "BASE_TYPE_REQUIRED"),
    ("text as accessory", [section(text(), accessory=text())], [], "components.0.accessory.type",
     "UNION_TYPE_CHOICES"),
    ("bad button as accessory", [section(text(), accessory=button(""))], [],
     "components.0.accessory.custom_id", "BASE_TYPE_BAD_LENGTH"),
    # media galleries
    ("empty gallery", [gallery()], [], "components.0.items", "BASE_TYPE_BAD_LENGTH"),
    ("11 gallery items", [gallery(*[WEB] * 11)], [], "components.0.items", "BASE_TYPE_BAD_LENGTH"),
    ("gallery item without url", [{"type": 12, "items": [{"media": {}}]}], [], "components.0.items.0.media.url",
     "BASE_TYPE_REQUIRED"),
    ("ftp url", [gallery("ftp://example.com/a.png")], [], "components.0.items.0.media.url",
     "URL_TYPE_INVALID_SCHEME"),
    ("description of 1025", [gallery(WEB, description="d" * 1025)], [], "components.0.items.0.description",
     "BASE_TYPE_MAX_LENGTH"),
    ("spoiler not a bool", [gallery(WEB, spoiler="yes")], [], "components.0.items.0.spoiler", "BASE_TYPE_BOOLEAN"),
    ("attachment not in the message", [box(gallery("attachment://a.png", "attachment://b.png"))], PICTURE,
     "components.0.components.0.items.1.media.url", "UNFURLED_MEDIA_ITEM_ATTACHMENT_NOT_FOUND"),
    ("text file in a gallery", [gallery("attachment://notes.txt")], [("notes.txt", b"hi")],
     "components.0.items.0.media.url", "UNFURLED_MEDIA_ITEM_INVALID_CONTENT_TYPE"),
    # files and thumbnails
    ("file from the web", [{"type": 13, "file": {"url": WEB}}], [], "components.0.file.url",
     "UNFURLED_MEDIA_ITEM_ATTACHMENT_URL_REQUIRED"),
    ("file not in the message", [{"type": 13, "file": {"url": "attachment://b.zip"}}], PICTURE,
     "components.0.file.url", "UNFURLED_MEDIA_ITEM_ATTACHMENT_NOT_FOUND"),
    ("file without media", [{"type": 13}], [], "components.0.file", "BASE_TYPE_REQUIRED"),
    ("video as thumbnail", [section(text(), accessory=thumbnail("attachment://clip.mp4"))],
     [("clip.mp4", b"\0\0\0\x18ftypmp42")], "components.0.accessory.media.url",
     "UNFURLED_MEDIA_ITEM_INVALID_CONTENT_TYPE"),
    # containers and separators
    ("accent above 0xFFFFFF", [box(text(), accent_color=0x1000000)], [], "components.0.accent_color",
     "NUMBER_TYPE_MAX"),
    ("accent not a number", [box(text(), accent_color="red")], [], "components.0.accent_color", "NUMBER_TYPE_MAX"),
    ("empty container", [box()], [], "components.0.components", "BASE_TYPE_MIN_LENGTH"),
    ("container spoiler not a bool", [box(text(), spoiler=1)], [], "components.0.spoiler", "BASE_TYPE_BOOLEAN"),
    ("separator spacing 3", [box(text(), {"type": 14, "spacing": 3})], [], "components.0.components.1.spacing",
     "BASE_TYPE_CHOICES"),
    ("separator divider not a bool", [{"type": 14, "divider": "no"}], [], "components.0.divider",
     "BASE_TYPE_BOOLEAN"),
    # 40 components in all, buttons and section accessories included: 1 + 13 * 3 + 1 = 41
    ("41 components", [box(*[section(text(), accessory=button(f"b{i}")) for i in range(13)], text())], [],
     "components", "BASE_TYPE_MAX_LENGTH"),
]  # fmt: skip


@pytest.fixture
async def own_rules() -> AsyncIterator[tuple[FakeDiscord, aiohttp.ClientSession]]:
    """A fake without the OpenAPI check and a bot-authenticated HTTP client: every request meets the fake's
    own rules (with Discord's OpenAPI document beside the checkout, shape errors are answered by the schema
    check first, with its own paths, and recorded as violations)."""
    async with FakeDiscord(openapi_path=None) as fake:
        fake.world = build_test_server(fake)
        headers = {"Authorization": f"Bot {fake.bot_token}"}
        async with aiohttp.ClientSession(base_url=fake.base_url, headers=headers) as http:
            yield fake, http


@pytest.mark.parametrize(("components", "files", "path", "code"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
async def test_a_broken_rule_is_refused_naming_the_field(
    own_rules: tuple[FakeDiscord, aiohttp.ClientSession],
    components: list[Any],
    files: list[tuple[str, bytes]],
    path: str,
    code: str,
) -> None:
    fake, http = own_rules
    general = fake.world.general
    status, body = await post_message(http, general.id, {"flags": IS_COMPONENTS_V2, "components": components}, files)
    assert (status, body["code"]) == (400, 50035), body
    assert the_error(body) == (path, code), body
    assert fake.messages(general) == []


async def test_each_broken_rule_is_refused_with_the_schema_check_too(
    http: aiohttp.ClientSession, fake_discord: FakeDiscord
) -> None:
    """As the bot's tests run: whichever check answers first (Discord's OpenAPI document or the fake's own
    rules), nothing is stored."""
    general = fake_discord.world.general
    for name, components, files, _, _ in REFUSED:
        payload = {"flags": IS_COMPONENTS_V2, "components": components}
        status, body = await post_message(http, general.id, payload, files)
        assert (status, body["code"]) == (400, 50035), (name, body)
    assert fake_discord.messages(general) == []
    fake_discord.violations.clear()  # the shape errors were meant; the fixture would fail the test on them


async def test_the_limits_themselves_are_accepted(http: aiohttp.ClientSession, fake_discord: FakeDiscord) -> None:
    general = fake_discord.world.general
    forty = box(*[section(text(), accessory=button(f"b{i}")) for i in range(13)])  # 1 + 13 * 3
    link = {"type": 2, "style": 5, "label": "x" * 80, "url": WEB}
    layouts = [
        [forty],
        [text("x" * 4000)],
        [text("x" * 1000), box(text("y" * 3000), {"type": 14, "spacing": 2, "divider": False}, accent_color=0xFFFFFF)],
        [row(*[button(f"b{i}") for i in range(4)], link), gallery(*[WEB] * 10, description="d" * 1024, spoiler=True)],
        [section(text(), text(), text(), accessory=thumbnail(WEB)), box(text(), accent_color=None, spoiler=False)],
        [row({"type": 3, "custom_id": "s" * 100, "options": [{"label": "a", "value": "a"}]}), {**text(), "id": 0}],
    ]
    for components in layouts:
        status, body = await post_message(http, general.id, {"flags": IS_COMPONENTS_V2, "components": components})
        assert status == 200, (components, body)
    assert len(fake_discord.messages(general)) == len(layouts)


async def test_v1_rows_follow_the_button_rules(own_rules: tuple[FakeDiscord, aiohttp.ClientSession]) -> None:
    fake, http = own_rules
    general = fake.world.general
    for components, path, code in [
        ([row(button(label="x" * 81))], "components.0.components.0.label", "BASE_TYPE_MAX_LENGTH"),
        ([row(button("a")), row(button("a"))], "components.1.components.0.custom_id", "COMPONENT_CUSTOM_ID_DUPLICATED"),
        ([row(button("a"))] * 6, "components", "BASE_TYPE_MAX_LENGTH"),
        ([text()], "components.0.type", "UNION_TYPE_CHOICES"),  # needs the V2 flag
    ]:
        status, body = await post_message(http, general.id, {"content": "card", "components": components})
        assert (status, the_error(body)) == (400, (path, code)), components
    status, _ = await post_message(http, general.id, {"content": "card", "components": [row(button("a"), button("b"))]})
    assert status == 200


async def test_attachment_references_follow_edits(http: aiohttp.ClientSession, fake_discord: FakeDiscord) -> None:
    general = fake_discord.world.general
    card = [box(text("queued"), gallery("attachment://first.png"))]
    payload = {"flags": IS_COMPONENTS_V2, "components": card}
    status, body = await post_message(http, general.id, payload, [("first.png", png())])
    assert status == 200
    message = fake_discord.message(int(body["id"]))
    first_id = body["attachments"][0]["id"]

    # Dropping the attachment a kept component shows is refused; the message stays as it was.
    status, body = await edit_message(http, general.id, message.id, {"attachments": []})
    assert (status, the_error(body)) == (400, ("components.0.components.1.items.0.media.url",
                                               "UNFURLED_MEDIA_ITEM_ATTACHMENT_NOT_FOUND"))  # fmt: skip
    assert message.filenames == ["first.png"] and message.edits == []

    # A new upload, renamed by its attachments entry, is shown by its new name; the kept one stays shown.
    renamed = {"id": 0, "filename": "second.png"}
    edited = [box(text("done"), gallery("attachment://first.png", "attachment://second.png"))]
    status, body = await edit_message(
        http, general.id, message.id, {"components": edited, "attachments": [{"id": first_id}, renamed]},
        [("upload.png", png("blue"))],
    )  # fmt: skip
    assert status == 200, body
    assert message.filenames == ["first.png", "second.png"] and message.hidden_attachments() == []
    assert message.media_urls() == ["attachment://first.png", "attachment://second.png"]

    # An edit may leave a file unshown: Discord takes it, no reader sees it.
    status, _ = await edit_message(http, general.id, message.id, {"components": [text("only text")]})
    assert status == 200
    assert [a.filename for a in message.hidden_attachments()] == ["first.png", "second.png"]


async def test_a_full_card_round_trips_through_discord_py(fake_discord: FakeDiscord, tiny_bot: TinyBot) -> None:
    general = fake_discord.world.general
    frames = [discord.File(io.BytesIO(png(c, (16, 9))), f"frame{i}.png") for i, c in enumerate(("red", "lime", "blue"))]
    clip = discord.File(io.BytesIO(b"\0\0\0\x18ftypmp42" + b"\0" * 64), "clip.mp4")
    notes = discord.File(io.BytesIO(b"seed=42\n"), "settings.txt")

    class Card(discord.ui.LayoutView):
        box: discord.ui.Container[Card] = discord.ui.Container(
            discord.ui.TextDisplay("## A cat waves"),
            discord.ui.Section("4 s, 720p", "seed 42", accessory=discord.ui.Thumbnail("attachment://frame0.png")),
            discord.ui.MediaGallery(
                *[discord.MediaGalleryItem(f"attachment://frame{i}.png", description=f"frame {i}") for i in range(3)]
            ),
            discord.ui.MediaGallery(discord.MediaGalleryItem("attachment://clip.mp4")),
            discord.ui.File("attachment://settings.txt"),
            discord.ui.Separator(),
            discord.ui.TextDisplay("Made for alice"),
            discord.ui.ActionRow(
                discord.ui.Button(label="Again", custom_id="again"),
                discord.ui.Button(label="Longer", custom_id="longer", style=discord.ButtonStyle.secondary),
            ),
            accent_colour=0x5865F2,
        )

    channel = tiny_bot.get_channel(general.id)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send(view=Card(), files=[*frames, clip, notes])

    stored = fake_discord.message(sent.id)
    assert stored.flags & IS_COMPONENTS_V2 and stored.hidden_attachments() == []
    assert stored.media_urls() == [
        "attachment://frame0.png", "attachment://frame0.png", "attachment://frame1.png", "attachment://frame2.png",
        "attachment://clip.mp4", "attachment://settings.txt",
    ]  # fmt: skip
    assert stored.text() == "## A cat waves\n4 s, 720p\nseed 42\nMade for alice\nAgain\nLonger"
    assert stored.custom_ids() == ["again", "longer"]
    assert stored.components[0]["components"][0] == {"type": 10, "content": "## A cat waves"}  # kept as sent

    fetched = await channel.fetch_message(sent.id)
    [container] = fetched.components
    assert isinstance(container, discord.components.Container)
    assert container.accent_colour == discord.Colour(0x5865F2)
    kinds = [type(c).__name__ for c in container.children]
    assert kinds == ["TextDisplay", "SectionComponent", "MediaGalleryComponent", "MediaGalleryComponent",
                     "FileComponent", "SeparatorComponent", "TextDisplay", "ActionRow"]  # fmt: skip
    by_name = {a.filename: a for a in fetched.attachments}
    section_, pictures, video, file_ = container.children[1:5]
    assert isinstance(section_, discord.components.SectionComponent)
    assert isinstance(section_.accessory, discord.components.ThumbnailComponent)
    assert section_.accessory.media.attachment_id == by_name["frame0.png"].id
    assert isinstance(pictures, discord.components.MediaGalleryComponent)
    assert [i.description for i in pictures.items] == ["frame 0", "frame 1", "frame 2"]
    for i, item in enumerate(pictures.items):
        attachment = by_name[f"frame{i}.png"]
        assert item.media.attachment_id == attachment.id and item.media.url == attachment.url
        assert (item.media.content_type, item.media.width, item.media.height) == ("image/png", 16, 9)
        async with aiohttp.ClientSession() as web, web.get(item.media.url) as served:  # the CDN serves it
            assert await served.read() == png(("red", "lime", "blue")[i], (16, 9))
    assert isinstance(video, discord.components.MediaGalleryComponent)
    assert video.items[0].media.content_type == "video/mp4"
    assert isinstance(file_, discord.components.FileComponent)
    assert (file_.name, file_.size, file_.media.attachment_id) == ("settings.txt", 8, by_name["settings.txt"].id)
    buttons = container.children[7]
    assert isinstance(buttons, discord.components.ActionRow)
    assert [b.custom_id for b in buttons.children] == ["again", "longer"]
    ids = [c.id for c in _walk(container)]
    assert sorted(ids) == list(range(1, 15))  # Discord numbers every component (14)


def _walk(component: Any) -> list[Any]:
    """A discord.py component and everything inside it: children, then a section's accessory."""
    found = [component]
    for child in getattr(component, "children", []):
        found += _walk(child)
    if getattr(component, "accessory", None) is not None:
        found += _walk(component.accessory)
    return found


async def test_attachment_size_limit_is_the_larger_of_nitro_and_the_server(
    fake_discord: FakeDiscord, tiny_bot: TinyBot
) -> None:
    world = fake_discord.world
    world.guild.upload_limit = 64 * KIB  # smaller than any real tier's, to keep the uploads small
    world.alice.nitro_upload_limit = 256 * KIB
    assert (world.alice.attachment_size_limit, world.bob.attachment_size_limit) == (256 * KIB, 64 * KIB)

    ix = await fake_discord.slash(world.alice, "later", channel=world.general)
    assert ix.payload["attachment_size_limit"] == 256 * KIB
    interaction: discord.Interaction = await tiny_bot.wait_pending(timeout=10)
    assert interaction.id == ix.id and interaction.filesize_limit == 256 * KIB  # as discord.py read it
    plain = await fake_discord.slash(world.bob, "later", channel=world.general)
    assert plain.payload["attachment_size_limit"] == 64 * KIB  # no Nitro: the server's

    between = 100 * KIB
    channel = tiny_bot.get_channel(world.general.id)
    assert isinstance(channel, discord.TextChannel)
    with pytest.raises(discord.HTTPException) as caught:  # a bot token has no Nitro: the server's limit
        await channel.send(file=discord.File(io.BytesIO(b"\0" * between), "big.bin"))
    assert (caught.value.status, caught.value.code) == (413, 40005)
    followup = await interaction.followup.send(file=discord.File(io.BytesIO(b"\0" * between), "big.bin"), wait=True)
    assert followup.attachments[0].size == between
    with pytest.raises(discord.HTTPException) as over:
        await interaction.followup.send(file=discord.File(io.BytesIO(b"\0" * (256 * KIB + 1)), "bigger.bin"))
    assert (over.value.status, over.value.code) == (413, 40005)


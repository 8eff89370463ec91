"""Member text at its longest, in the worst characters, in every message that quotes it (issue 26, item 6).

Escaping markdown can double a prompt; the fake Discord refuses any body over Discord's limits (400 50035),
so an over-long message shows here as an error id instead of the preview or the job. Each kind of message
must be shown, cut with an ellipsis between whole graphemes, its escaping intact."""

from __future__ import annotations

from typing import Any

import pytest
import regex

from tests.e2e.conftest import png
from tests.e2e.test_animate import private_answer
from tests.e2e.test_storyboard import START, open_form, started
from tests.fakes.discord import FakeDiscord, SentMessage, Upload
from tests.fakes.discord.models import walk_components
from tests.fakes.provider import FakeProvider

# One unit of each kind of worst character, repeated up to the longest prompt a form or option takes.
WORST = {
    "markdown": "*_`~|\\",  # every character escaped: twice as long once escaped
    "cjk": "猫在桥上慢慢地走",  # no spaces to cut at
    "emoji": "👨\u200d👩\u200d👧\u200d👦",  # one grapheme of seven code points
    "combining": "e\u0301\u0302\u0303",  # one grapheme of four code points
}
MARKDOWN = "*_`~|\\"
STORYBOARD_PROMPT = (4000 - 8) // 9  # nine lines in the form's 4000 characters
ANIMATE_PROMPT = 2000


def worst(kind: str, length: int) -> str:
    unit = WORST[kind]
    return unit * (length // len(unit))


def graphemes(text: str) -> list[str]:
    return regex.findall(r"\X", text)


def assert_quoted_safely(shown: str, prompt: str, *, escaped: bool = True) -> None:
    """`shown` is `prompt` cut: it ends with an ellipsis, keeps every grapheme whole, and (`escaped`) every
    markdown character in it is escaped by a backslash of its own."""
    assert shown.endswith("…") and len(shown) > 1, shown
    body = shown[:-1]
    if escaped:
        body = regex.sub(r"\\([*_`~|\\])", r"\1", body)
        assert not regex.search(r"[*_`~|\\]", regex.sub(r"\\[*_`~|\\]", "", shown[:-1])), (
            f"markdown left unescaped: {shown!r}")
    assert body.strip() and prompt.startswith(body.strip()), f"not a whole-grapheme cut of the prompt: {shown!r}"
    assert set(graphemes(body)) <= set(graphemes(prompt)) | {" "}, f"a grapheme was split: {shown!r}"


def prompt_parts(text: str) -> list[str]:
    """What follows "n. 5 s — " on each numbered line (the prompts of a multiframe request)."""
    return [line.split(" — ", 1)[1] for line in text.splitlines() if regex.match(r"\d+\. .* — ", line)]


def descriptions(message: SentMessage) -> list[str]:
    return [item.get("description", "") for c in walk_components(message.components) if c["type"] == 12
            for item in c["items"]]


async def answer_content(fake: FakeDiscord, who: Any, command: str, **options: Any) -> str:
    ix = await fake.slash(who, command, channel=fake.world.general, options=options)
    await fake.wait_for(lambda: ix.responses or None, timeout=30, what=f"/{command}", seen=lambda: "")
    content = str((ix.responses[0].data or {}).get("content", ""))
    assert "error id" not in content, content
    return content


@pytest.mark.parametrize("kind", list(WORST))
async def test_nine_longest_prompts_fit_the_preview_the_card_and_jobs(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot, kind: str
) -> None:
    await start_bot()
    world = fake_discord.world
    prompts = [worst(kind, STORYBOARD_PROMPT) for _ in range(9)]
    opened = await open_form(fake_discord)
    submit = await fake_discord.submit_modal(world.alice, opened_by=opened, values={
        "frames": [Upload(f"{n}.png", png()) for n in range(10)], "prompts": "\n".join(prompts)})
    preview = await private_answer(fake_discord, submit, timeout=60)

    assert START in preview.custom_ids(), preview.text()  # the preview, not an error id
    shown = prompt_parts(preview.text())
    assert len(shown) == 9
    for part in shown:
        assert_quoted_safely(part, prompts[0])

    await fake_discord.press_button(world.alice, preview, START)
    done = await started(fake_discord, preview)
    job_id = done.text().split("`")[1]
    thread = await fake_discord.wait_for_thread(world.general, timeout=30)
    card = await fake_discord.wait_for_message(thread, lambda m: "Request by" in m.text(), timeout=30)
    assert len(prompt_parts(card.text())) == 9
    for part in prompt_parts(card.text()):
        assert_quoted_safely(part, prompts[0])

    detail = await answer_content(fake_discord, world.alice, "jobs", job=job_id)
    assert job_id in detail and len(prompt_parts(detail)) == 9
    for part in prompt_parts(detail):
        assert_quoted_safely(part, prompts[0])


@pytest.mark.parametrize("kind", list(WORST))
async def test_the_longest_prompt_fits_the_thread_the_card_and_jobs(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot, kind: str
) -> None:
    await start_bot()
    world = fake_discord.world
    prompt = worst(kind, ANIMATE_PROMPT)
    ix = await fake_discord.slash(world.alice, "animate", channel=world.general,
                                  options={"image": Upload("a.png", png()), "prompt": prompt})
    answer = (await private_answer(fake_discord, ix, timeout=60)).text()
    assert "error id" not in answer, answer
    job_id = answer.split("`")[1]
    thread = await fake_discord.wait_for_thread(world.general, timeout=30)

    # The thread's name (plain text, at most 100) and the message it starts from (escaped).
    assert len(thread.name) <= 100
    assert_quoted_safely(thread.name, prompt, escaped=False)
    (starter,) = [m for m in fake_discord.messages(world.general) if "is making a video" in m.content]
    assert_quoted_safely(starter.content.split("**")[1], prompt)

    card = await fake_discord.wait_for_message(thread, lambda m: "Request by" in m.text(), timeout=30)
    (quoted,) = [line.removeprefix("> ") for line in card.text().splitlines() if line.startswith("> ")]
    assert_quoted_safely(quoted, prompt)
    (description,) = descriptions(card)  # the picture's alt text: plain, at most 1024
    assert len(description) <= 1024
    assert_quoted_safely(description.split(": ", 1)[1], prompt, escaped=False)

    detail = await answer_content(fake_discord, world.alice, "jobs", job=job_id)
    (quoted,) = [line.removeprefix("> ") for line in detail.splitlines() if line.startswith("> ")]
    assert_quoted_safely(quoted, prompt)
    listing = await answer_content(fake_discord, world.mod, "jobs", job="all")
    assert job_id in listing or "0 queued" in listing
    # A job id typed at its longest is echoed, cut, when no job has it.
    echoed = await answer_content(fake_discord, world.alice, "jobs", job=worst(kind, 6000))
    assert len(echoed) <= 2000 and "…" in echoed


async def test_moderator_answers_and_refusals_that_quote_member_text_fit(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    typed = worst("markdown", 6000)
    zone = await answer_content(fake_discord, world.mod, "config timezone", name=typed)
    assert zone.startswith("Not changed: `") and len(zone) <= 2000 and "…" in zone

    # Twelve terms of 199 markdown characters: shown escaped, the list cut to whole lines.
    terms = [worst("markdown", 198) + "abcdefghijkl"[n] for n in range(12)]
    for term in terms:
        added = await answer_content(fake_discord, world.mod, "mod blocklist add", term=term)
        assert "→" in added
    shown = await answer_content(fake_discord, world.mod, "mod blocklist show")
    listed = shown.splitlines()
    assert len(shown) <= 2000 and listed[-1].startswith("…and ") and listed[-1].endswith(" more")
    for line in listed[:-1]:
        term = line.removeprefix("• “").removesuffix("”")
        assert regex.sub(r"\\[*_`~|\\]", "", term)[:-1] in "abcdefghijkl", line  # every markdown character escaped
    audit = await answer_content(fake_discord, world.mod, "mod audit")
    assert len(audit) <= 2000

    ix = await fake_discord.slash(world.alice, "animate", channel=world.general,
                                  options={"image": Upload("a.png", png()), "prompt": f"a {terms[0]} b"})
    refused = (await private_answer(fake_discord, ix, timeout=60)).text()
    assert "does not allow" in refused and "\\*\\_" in refused and "*_" not in refused.replace("\\*\\_", "")

    # Ten files that are not pictures, each named at length: every problem listed, the list cut to a message.
    opened = await open_form(fake_discord)
    names = [f"{n}{'_notes' * 40}.pdf" for n in range(10)]
    submit = await fake_discord.submit_modal(world.alice, opened_by=opened, values={
        "frames": [Upload(name, b"%PDF-1.4") for name in names], "prompts": "walks in"})
    listing = (await private_answer(fake_discord, submit, timeout=60)).text()
    assert listing.startswith("Nothing was sent") and len(listing) <= 2000 and listing.endswith("…")

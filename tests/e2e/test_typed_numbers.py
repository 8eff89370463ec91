"""Numbers typed as text (issue 26, item 7): every way in reads digits as int() does (`٣` is 3, full-width `５`
is 5) and refuses anything else (superscript `²`, `½`, `五`) with a message that names the field, in the
member's language. `²` passed str.isdigit() and crashed int(): an error id instead of the message."""

from __future__ import annotations

from tests.e2e.conftest import eventually, png
from tests.e2e.test_animate import private_answer
from tests.e2e.test_menu import open_menu
from tests.e2e.test_moderators import answer_of
from tests.e2e.test_storyboard import open_form, three_frames
from tests.e2e.test_video_buttons import _extend, _first_video
from tests.fakes.discord import FakeDiscord, SentMessage, Upload
from tests.fakes.provider import FakeProvider

ERROR_ID = ("error id", "错误编号")


def _frames() -> dict[str, Upload]:
    return {"start": Upload("s.png", png()), "frame1": Upload("1.png", png()), "frame2": Upload("2.png", png())}


def _refused(text: str, expected: str) -> None:
    assert expected in text, text
    assert not any(word in text for word in ERROR_ID), text


async def _keyframes(fake: FakeDiscord, who: object, durations: str) -> str:
    ix = await fake.slash(who, "keyframes", channel=fake.world.general,  # type: ignore[arg-type]
                          options={**_frames(), "durations": durations})
    return await answer_of(fake, ix)


async def test_keyframes_and_the_forms_refuse_other_digits_by_name_and_read_any_decimal_digits(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    # /keyframes durations, in each member's language.
    _refused(await _keyframes(fake_discord, world.alice, "4,²"), 'durations: "²" is not a whole number of seconds')
    _refused(await _keyframes(fake_discord, world.bob, "²"), "时长：“²” 不是整数秒")  # bob reads zh-CN
    _refused(await _keyframes(fake_discord, world.alice, "五"), 'durations: "五" is not a whole number of seconds')
    # Apps → Animate, one picture: its duration field.
    opened = await open_menu(fake_discord, [Upload("cat.png", png())])
    submit = await fake_discord.submit_modal(world.alice, opened_by=opened, values={"prompt": "a", "duration": "²"})
    _refused((await private_answer(fake_discord, submit)).text(),
             'duration: "²" is not a whole number of seconds from 1 to 10')
    # Apps → Animate, three pictures: the segments' durations.
    opened = await open_menu(fake_discord, [Upload(f"{n}.png", png()) for n in range(3)])
    submit = await fake_discord.submit_modal(world.alice, opened_by=opened, values={
        "prompts": "a\nb", "durations": "3,³"})
    _refused((await private_answer(fake_discord, submit)).text(), 'durations: "³" is not a whole number of seconds')
    # /storyboard's form.
    opened = await open_form(fake_discord)
    submit = await fake_discord.submit_modal(world.alice, opened_by=opened, values={
        "frames": three_frames(), "durations": "²,4"})
    _refused((await private_answer(fake_discord, submit)).text(), 'durations: "²" is not a whole number of seconds')
    assert provider.requests_to("submit") == [] and fake_discord.threads(world.general) == []
    # Decimal digits of another script are numbers: Arabic-Indic ٣ is 3, full-width ５ is 5.
    assert "on its way" in await _keyframes(fake_discord, world.alice, "٣,５")
    await eventually(lambda: len(provider.tasks) == 1, timeout=15, what="the keyframes task")
    (task,) = provider.tasks.values()
    assert [s["duration"] for s in task.body["image_settings"]] == [3, 5]


async def test_extend_refuses_other_digits_by_name_and_reads_any_decimal_digits(
    fake_discord: FakeDiscord, provider: FakeProvider, start_bot
) -> None:
    await start_bot()
    world = fake_discord.world
    video: SentMessage = await _first_video(fake_discord, provider)
    submitted = await _extend(fake_discord, world.alice, video, "onwards", "²")
    _refused((await private_answer(fake_discord, submitted)).text(),
             'Seconds: "²" is not a whole number from 1 to 10. Nothing was sent.')
    submitted = await _extend(fake_discord, world.alice, video, "onwards", "٣")
    assert "Extending" in (await private_answer(fake_discord, submitted)).text()
    await eventually(lambda: len(provider.tasks) == 2, timeout=30, what="the extension")
    assert list(provider.tasks.values())[1].body["duration"] == 3

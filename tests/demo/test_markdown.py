"""The demo page draws the bot's Discord markdown as a member's client would, and a member's text stays text."""

from __future__ import annotations

from demo.markdown import Names, render

NAMES = Names(users={1: "alice"}, roles={2: "Moderators"}, channels={3: "a cat waves"}, now=1_000_000.0)


def test_what_a_member_typed_is_shown_as_text_never_as_markup() -> None:
    shown = render('> <img src=x onerror="alert(1)"> **bold** `<b>`', NAMES)
    assert "<img" not in shown and "&lt;img src=x" in shown
    assert "<strong>bold</strong>" in shown and "<code>&lt;b&gt;</code>" in shown


def test_mentions_threads_and_timestamps_read_as_on_discord() -> None:
    shown = render("<@1> in <#3> (<@&2>): frees <t:1003600:R>, not <@99>", NAMES)
    assert '<span class="mention">@alice</span>' in shown and '<span class="mention">@Moderators</span>' in shown
    assert '<a class="mention" href="#c-3"># a cat waves</a>' in shown and "@unknown" in shown
    assert ">in 1 hour</time>" in shown
    chinese = render("<t:999940:R>", Names({}, {}, {}, now=1_000_000.0, locale="zh-CN"))
    assert ">1 分钟前</time>" in chinese


def test_blocks_lists_quotes_subtext_and_code() -> None:
    shown = render("## Title\n1. first\n2. second\n- a\n-# small print\n```\n**not bold**\n```", NAMES)
    assert "<h4>Title</h4>" in shown and "<ol><li>first</li><li>second</li></ol>" in shown
    assert "<ul><li>a</li></ul>" in shown and '<div class="subtext">small print</div>' in shown
    assert "<pre><code>**not bold**</code></pre>" in shown

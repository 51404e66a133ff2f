"""Properties of what the channel sends: Telegram's parser accepts every rendering, pieces fit."""

from __future__ import annotations

import pytest
from agent_framework_hosting_telegram._text import (
    MESSAGE_LIMIT,
    ParseMode,
    render,
    split_text,
    utf16_length,
)
from agent_framework_hosting_telegram.testing import parse_formatted_text
from hypothesis import example, given, settings
from hypothesis import strategies as st

# Markdown's building blocks and Telegram's reserved characters, mixed with any text.
MARKDOWN_TOKENS = [
    "**", "__", "*", "_", "~~", "`", "```", "```py\n", "\n```", "# ", "## ", "[", "]", "(",
    ")", "](https://example.com/a_(b))", "[x](tg://user?id=1)", "\\", ">", "#", "+", "-",
    "=", "|", "||", "{", "}", ".", "!", "<", ">", "&", "&amp;", "&#60;", "<b>", '"',
    " ", "\n", "\n\n", "word", "é", "\U0001f600",
]  # fmt: skip
markdown = st.lists(
    st.one_of(st.sampled_from(MARKDOWN_TOKENS), st.text(max_size=8)), max_size=40
).map("".join)
MODES: list[ParseMode] = ["MarkdownV2", "HTML"]


@pytest.mark.parametrize("mode", MODES)
@settings(max_examples=400, deadline=None)
@given(text=markdown)
@example(text="*a*_b_")
@example(text="_a_ _b_ *c*_d_")
@example(text="``````")
@example(text="` `")
@example(text="[ ](https://example.com)")
@example(text="#  ")
def test_telegram_accepts_every_rendering(mode: ParseMode, text: str) -> None:
    rendered = render(text, mode)
    shown = parse_formatted_text(rendered, mode)  # raises what Telegram would refuse
    # Rendering only drops markup: a piece that fits a message still fits once shown.
    assert utf16_length(shown.text) <= utf16_length(text)
    # A reply with something to read is never shown empty.
    if text.strip():
        assert shown.text


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from("ab .\n!?\U0001f600"), max_size=400),
    limit=st.integers(2, 40),
)
def test_pieces_fit_the_limit_and_keep_every_word(text: str, limit: int) -> None:
    pieces = split_text(text, limit)
    assert all(utf16_length(piece) <= limit for piece in pieces)
    assert "".join("".join(pieces).split()) == "".join(text.split())


def test_a_piece_renders_within_a_message() -> None:
    piece = split_text("1.5 - a_b (c)! " * 1000)[0]
    rendered = render(piece, "MarkdownV2")
    assert utf16_length(rendered) > MESSAGE_LIMIT  # escapes make the markup longer
    assert utf16_length(parse_formatted_text(rendered, "MarkdownV2").text) <= MESSAGE_LIMIT

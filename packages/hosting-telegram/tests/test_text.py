"""Message splitting and Markdown rendering for Telegram's parse modes."""

from __future__ import annotations

import pytest
from agent_framework_hosting_telegram._text import render, split_text, utf16_length


def test_short_text_is_one_piece() -> None:
    assert split_text("hello") == ["hello"]
    assert split_text("") == [""]


def test_cuts_prefer_paragraphs_then_lines_then_sentences_then_spaces() -> None:
    assert split_text("aaaa bbbb\n\ncccc dddd", 14) == ["aaaa bbbb", "cccc dddd"]
    assert split_text("aaaa bbbb\ncccc dddd", 14) == ["aaaa bbbb", "cccc dddd"]
    assert split_text("Aaa bb. Ccc dd ee ff", 12) == ["Aaa bb.", "Ccc dd ee ff"]
    assert split_text("aaaa bbbb cccc dddd", 12) == ["aaaa bbbb", "cccc dddd"]


def test_a_word_longer_than_the_limit_is_cut() -> None:
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


def test_limits_count_utf16_units() -> None:
    emoji = "\U0001f600"
    assert utf16_length(emoji) == 2
    pieces = split_text(emoji * 5, 4)
    assert pieces == [emoji * 2, emoji * 2, emoji]
    assert all(utf16_length(piece) <= 4 for piece in pieces)


@pytest.mark.parametrize("special", list("_*[]()~`>#+-=|{}.!\\"))
def test_markdown_v2_escapes_every_special_character(special: str) -> None:
    assert render(f"a{special}b", "MarkdownV2") == f"a\\{special}b"


@pytest.mark.parametrize(
    ("markdown", "markdown_v2", "html"),
    [
        ("**bold**", "*bold*", "<b>bold</b>"),
        ("__bold__", "*bold*", "<b>bold</b>"),
        ("*it* and _it_", "_it_ and _it_", "<i>it</i> and <i>it</i>"),
        ("~~gone~~", "~gone~", "<s>gone</s>"),
        ("`x<1`", "`x<1`", "<code>x&lt;1</code>"),
        ("# Title", "*Title*", "<b>Title</b>"),
        (
            "[docs](https://example.com/a_(b))",
            "[docs](https://example.com/a_(b\\))",
            '<a href="https://example.com/a_(b)">docs</a>',
        ),
        (
            "```py\nprint('*')\n```",
            "```py\nprint('*')\n```",
            "<pre><code class=\"language-py\">print('*')</code></pre>",
        ),
        ("snake_case_name", "snake\\_case\\_name", "snake_case_name"),
        ("2 * 3 * 4", "2 \\* 3 \\* 4", "2 * 3 * 4"),
        ("**unclosed", "\\*\\*unclosed", "**unclosed"),
        ("a < b & c", "a < b & c", "a &lt; b &amp; c"),
    ],
)
def test_markdown_is_kept_and_the_rest_escaped(markdown: str, markdown_v2: str, html: str) -> None:
    assert render(markdown, "MarkdownV2") == markdown_v2
    assert render(markdown, "HTML") == html


def test_code_keeps_backslashes_and_backticks_escaped() -> None:
    assert render("```\na\\b`c\n```", "MarkdownV2") == "```\na\\\\b\\`c\n```"

"""Message text: Telegram's length limit, and the agent's Markdown made safe for a parse mode."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, TypeAlias

__all__ = [
    "CAPTION_LIMIT",
    "MESSAGE_LIMIT",
    "ParseMode",
    "iter_pieces",
    "render",
    "split_text",
    "utf16_length",
]

MESSAGE_LIMIT = 4096
"""The most UTF-16 code units Telegram accepts in one message's text, after parsing."""

CAPTION_LIMIT = 1024
"""The most UTF-16 code units Telegram accepts in a photo's or a document's caption."""

ParseMode: TypeAlias = Literal["MarkdownV2", "HTML"]


def utf16_length(text: str) -> int:
    """The length Telegram measures: UTF-16 code units (an emoji outside the BMP counts 2)."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split ``text`` into pieces of at most ``limit`` UTF-16 units (see `iter_pieces`)."""
    return list(iter_pieces(text, limit))


def iter_pieces(text: str, limit: int = MESSAGE_LIMIT) -> Iterator[str]:
    """The pieces of ``text``, each at most ``limit`` UTF-16 units, in order.

    Cuts prefer, in order: a blank line, a line break, the end of a sentence, a space; a
    piece is cut mid-word only when it has none of these in its second half. Whitespace
    at a cut is dropped. Each piece costs time in proportion to its own length, so taking
    the first few pieces of a huge text is cheap, and splitting all of it is linear.
    """
    start, end = 0, len(text)
    produced = False
    while True:
        # ``limit`` characters hold at least ``limit`` units: the window never needs more.
        window = text[start : start + limit]
        fitting = max(1, _fitting_prefix(window, limit))
        if start + fitting >= end:
            rest = text[start:]
            if rest.strip() or not produced:
                yield rest
            return
        window = window[:fitting]
        cut = _boundary(window)
        piece = window[:cut].rstrip()
        if piece:
            produced = True
            yield piece
        start += cut
        while start < end and text[start].isspace():
            start += 1


def _fitting_prefix(window: str, limit: int) -> int:
    """How many characters of ``window`` fit in ``limit`` UTF-16 units."""
    if window.isascii():
        return min(len(window), limit)
    units = window.encode("utf-16-le", "surrogatepass")[: 2 * limit]
    # A cut through a surrogate pair leaves half a character: "ignore" drops it.
    return len(units.decode("utf-16-le", "ignore"))


_SENTENCE_END = re.compile(r"[.!?…][\"')\]]*\s")


def _boundary(window: str) -> int:
    """Where to cut ``window``: the end of its last good boundary in the second half."""
    floor = len(window) // 2
    for separator in ("\n\n", "\n"):
        at = window.rfind(separator)
        if at > floor:
            return at + len(separator)
    sentence_ends = [match.end() for match in _SENTENCE_END.finditer(window, floor)]
    if sentence_ends:
        return sentence_ends[-1]
    at = window.rfind(" ")
    if at > floor:
        return at + 1
    return len(window)


# A small Markdown reader: the subset chat models write, rendered into Telegram's own
# parse modes with everything else escaped, so that no agent text can break the message.


@dataclass(frozen=True, slots=True)
class _Text:
    text: str


@dataclass(frozen=True, slots=True)
class _Code:
    text: str


@dataclass(frozen=True, slots=True)
class _Pre:
    text: str
    language: str


@dataclass(frozen=True, slots=True)
class _Styled:
    style: Literal["bold", "italic", "strike"]
    children: list[_Node]


@dataclass(frozen=True, slots=True)
class _Link:
    url: str
    children: list[_Node]


_Node: TypeAlias = _Text | _Code | _Pre | _Styled | _Link

_FENCE = re.compile(r"```([\w+#-]*)[^\S\n]*\n?(.*?)```", re.DOTALL)
_HEADING = re.compile(r"^#{1,6}[ \t]+(\S.*?)[ \t]*#*[ \t]*$", re.MULTILINE)
_INLINE = re.compile(
    r"(?P<code>`[^`\n]+`)"
    r"|(?P<bold>\*\*(?=\S).+?(?<=\S)\*\*|__(?=\S).+?(?<=\S)__)"
    r"|(?P<strike>~~(?=\S).+?(?<=\S)~~)"
    r"|(?P<italic>\*(?=[^\s*])[^*\n]*?(?<=[^\s*])\*|(?<!\w)_(?=[^\s_])[^_\n]*?(?<=[^\s_])_(?!\w))"
    r"|(?P<link>\[(?P<label>[^\]\n]*[^\]\s][^\]\n]*)\]\((?P<url>(?:https?|tg|mailto):(?:[^()\s]|\([^()\s]*\))+)\))"
)


def _parse(text: str) -> list[_Node]:
    nodes: list[_Node] = []
    position = 0
    for fence in _FENCE.finditer(text):
        nodes.extend(_parse_blocks(text[position : fence.start()]))
        code = fence.group(2).rstrip("\n")
        # An empty block shows nothing in Telegram: keep its fence as text instead.
        nodes.append(_Pre(code, fence.group(1)) if code.strip() else _Text(fence.group(0)))
        position = fence.end()
    nodes.extend(_parse_blocks(text[position:]))
    return nodes


def _parse_blocks(text: str) -> list[_Node]:
    nodes: list[_Node] = []
    position = 0
    for heading in _HEADING.finditer(text):
        nodes.extend(_parse_inline(text[position : heading.start()]))
        nodes.append(_Styled("bold", _parse_inline(heading.group(1))))
        position = heading.end()
    nodes.extend(_parse_inline(text[position:]))
    return nodes


def _parse_inline(text: str) -> list[_Node]:
    nodes: list[_Node] = []
    position = 0
    for match in _INLINE.finditer(text):
        if match.start() > position:
            nodes.append(_Text(text[position : match.start()]))
        token = match.group(0)
        if match.group("code") and not token[1:-1].strip():
            nodes.append(_Text(token))  # an empty code span shows nothing: keep it as text
        elif match.group("code"):
            nodes.append(_Code(token[1:-1]))
        elif match.group("bold"):
            nodes.append(_Styled("bold", _parse_inline(token[2:-2])))
        elif match.group("strike"):
            nodes.append(_Styled("strike", _parse_inline(token[2:-2])))
        elif match.group("italic"):
            nodes.append(_Styled("italic", _parse_inline(token[1:-1])))
        else:
            nodes.append(_Link(match.group("url"), _parse_inline(match.group("label"))))
        position = match.end()
    if position < len(text):
        nodes.append(_Text(text[position:]))
    return nodes


_MARKDOWN_V2_SPECIAL = re.compile(r"([_*\[\]()~`>#+\-=|{}.!\\])")
_MARKDOWN_V2_MARKS = {"bold": "*", "italic": "_", "strike": "~"}
_HTML_TAGS = {"bold": "b", "italic": "i", "strike": "s"}


def _markdown_v2(nodes: list[_Node]) -> str:
    out: list[str] = []
    for node in nodes:
        if isinstance(node, _Styled) and node.style == "italic" and out and out[-1][-1:] == "_":
            # "__" would read as underline: an empty code span keeps two underscores apart.
            out.append("``")
        match node:
            case _Text(text):
                out.append(_MARKDOWN_V2_SPECIAL.sub(r"\\\1", text))
            case _Code(text):
                out.append("`" + re.sub(r"([`\\])", r"\\\1", text) + "`")
            case _Pre(text, language):
                out.append(f"```{language}\n" + re.sub(r"([`\\])", r"\\\1", text) + "\n```")
            case _Styled(style, children):
                mark = _MARKDOWN_V2_MARKS[style]
                out.append(mark + _markdown_v2(children) + mark)
            case _Link(url, children):
                target = re.sub(r"([)\\])", r"\\\1", url)
                out.append(f"[{_markdown_v2(children)}]({target})")
    return "".join(out)


def _html(nodes: list[_Node]) -> str:
    out: list[str] = []
    for node in nodes:
        match node:
            case _Text(text):
                out.append(html.escape(text, quote=False))
            case _Code(text):
                out.append(f"<code>{html.escape(text, quote=False)}</code>")
            case _Pre(text, language):
                attribute = f' class="language-{html.escape(language)}"' if language else ""
                out.append(f"<pre><code{attribute}>{html.escape(text, quote=False)}</code></pre>")
            case _Styled(style, children):
                tag = _HTML_TAGS[style]
                out.append(f"<{tag}>{_html(children)}</{tag}>")
            case _Link(url, children):
                out.append(f'<a href="{html.escape(url)}">{_html(children)}</a>')
    return "".join(out)


def render(text: str, parse_mode: ParseMode) -> str:
    """Render the agent's Markdown ``text`` for Telegram's ``parse_mode``.

    Bold, italic, strikethrough, inline code, fenced code blocks, links and headings (as
    bold) are kept; every other character is escaped, so the result always parses.
    """
    nodes = _parse(text)
    return _markdown_v2(nodes) if parse_mode == "MarkdownV2" else _html(nodes)

"""Formatted text as the Bot API parses it: MarkdownV2 and HTML into text and entities, or refused.

The rules follow the Bot API's "Formatting options" and the way Telegram's servers apply
them: in MarkdownV2 every reserved character outside an entity must be escaped, entities
close in the reverse order they opened, and an unclosed one is an error; in HTML only the
documented tags exist, tags close in order, and ``<`` always opens a tag. What Telegram
refuses is refused here with the same description, so a bot's formatting is tested
against the rules it will meet, not against hand-picked strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["EntityParseError", "FormattedText", "parse_formatted_text"]

_RESERVED = frozenset("_*[]()~`>#+-=|{}.!\n")
_SPACE = frozenset(" \t\r\n\v\f")
_HTML_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins",
        "tg-spoiler", "tg-emoji", "span", "pre", "code", "blockquote",
    }
)  # fmt: skip
_HTML_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "a": "text_link",
    "tg-emoji": "custom_emoji",
}
_NAMED_REFERENCES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_CUSTOM_EMOJI_URL = re.compile(r"tg://emoji\?id=([0-9]+)")


class EntityParseError(ValueError):
    """Formatted text Telegram refuses: ``Bad Request: can't parse entities: <why>``."""


@dataclass(frozen=True)
class FormattedText:
    """What a message shows: its text, and entities as the Bot API reports them."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])


def parse_formatted_text(text: str, parse_mode: str | None) -> FormattedText:
    """Parse ``text`` in ``parse_mode`` (``None``, ``"MarkdownV2"`` or ``"HTML"``).

    The result is trimmed of leading and trailing whitespace, as Telegram stores it.

    Raises:
        EntityParseError: Telegram would answer ``400 can't parse entities``.

    """
    mode = (parse_mode or "").lower()
    if mode == "markdownv2":
        parsed = _MarkdownV2(text).parse()
    elif mode == "html":
        parsed = _Html(text).parse()
    else:
        parsed = FormattedText(text)
    return _trimmed(parsed)


def _units(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _trimmed(parsed: FormattedText) -> FormattedText:
    """Leading and trailing whitespace dropped, the entities moved and cut to match."""
    text = parsed.text
    stripped = text.strip("".join(_SPACE))
    if stripped == text:
        return parsed
    left = _units(text[: len(text) - len(text.lstrip("".join(_SPACE)))])
    size = _units(stripped)
    entities: list[dict[str, Any]] = []
    for entity in parsed.entities:
        start = max(0, entity["offset"] - left)
        end = min(size, entity["offset"] + entity["length"] - left)
        if end > start:
            entities.append({**entity, "offset": start, "length": end - start})
    return FormattedText(stripped, entities)


@dataclass
class _Open:
    """An entity opened and not yet closed."""

    type: str
    offset: int
    """Where it starts in the result, in UTF-16 units."""
    source_offset: int
    """Where its markup starts in the source, in characters (for error messages)."""
    result_start: int
    """Where it starts in the result, in characters."""
    argument: str = ""


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.out: list[str] = []
        self.units = 0
        self.entities: list[dict[str, Any]] = []

    def emit(self, char: str) -> None:
        self.out.append(char)
        self.units += 2 if ord(char) > 0xFFFF else 1

    def at(self, index: int) -> str:
        return self.source[index] if index < len(self.source) else ""

    def byte_offset(self, index: int) -> int:
        return len(self.source[:index].encode("utf-8", "surrogatepass"))

    def close(self, opened: _Open, entity_type: str, **extra: Any) -> None:
        if self.units > opened.offset:
            length = self.units - opened.offset
            self.entities.append(
                {"type": entity_type, "offset": opened.offset, "length": length, **extra}
            )

    def result(self) -> FormattedText:
        ordered = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return FormattedText("".join(self.out), ordered)


_MARKDOWN_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
    "blockquote": "BlockQuote",
}


class _MarkdownV2(_Parser):
    def parse(self) -> FormattedText:
        source = self.source
        stack: list[_Open] = []
        in_blockquote = False
        i = 0
        while i < len(source):
            char, following = source[i], self.at(i + 1)
            if char == "\\" and following and 0 < ord(following) <= 126:
                self.emit(following)
                i += 2
                continue
            top = stack[-1] if stack else None
            reserved = "`" if top is not None and top.type in ("code", "pre") else _RESERVED
            if char not in reserved:
                self.emit(char)
                i += 1
                continue
            if top is not None and self._ends(top, i, in_blockquote):
                if char == "\n" and top.type != "blockquote":
                    raise self._unclosed(top)
                i = self._close(stack.pop(), i)
                if top.type == "blockquote":
                    in_blockquote = False
                continue
            opened, i = self._open(i, in_blockquote)
            if opened is not None:
                in_blockquote = in_blockquote or opened.type == "blockquote"
                stack.append(opened)
        if stack and stack[-1].type == "blockquote":
            self.close(stack.pop(), "blockquote")
        if stack:
            raise self._unclosed(stack[-1])
        return self.result()

    def _ends(self, top: _Open, i: int, in_blockquote: bool) -> bool:
        char, following = self.source[i], self.at(i + 1)
        if in_blockquote and char == "\n" and following != ">":
            return True
        return {
            "bold": char == "*",
            "italic": char == "_" and following != "_",
            "underline": char == "_" and following == "_",
            "strikethrough": char == "~",
            "spoiler": char == "|" and following == "|",
            "code": char == "`",
            "pre": self.source.startswith("```", i),
            "text_link": char == "]",
            "custom_emoji": char == "]",
        }.get(top.type, False)

    def _open(self, i: int, in_blockquote: bool) -> tuple[_Open | None, int]:
        """Open the entity whose markup starts at ``i``; return it and where to go on."""
        source, char, following = self.source, self.source[i], self.at(i + 1)

        def opened(entity_type: str, width: int, argument: str = "") -> tuple[_Open, int]:
            entry = _Open(entity_type, self.units, i, len(self.out), argument)
            return entry, i + width

        if char == "_":
            return opened("underline", 2) if following == "_" else opened("italic", 1)
        if char == "*":
            return opened("bold", 1)
        if char == "~":
            return opened("strikethrough", 1)
        if char == "|" and following == "|":
            return opened("spoiler", 2)
        if char == "[":
            return opened("text_link", 1)
        if char == "!" and following == "[":
            return opened("custom_emoji", 2)
        if char == "`" and source.startswith("```", i):
            return self._open_pre(i)
        if char == "`":
            return opened("code", 1)
        if char == "\n":
            self.emit("\n")
            if following == ">":
                if not in_blockquote:
                    return _Open("blockquote", self.units, i, len(self.out)), i + 2
                return None, i + 2
            return None, i + 1
        if char == ">" and i == 0:
            return opened("blockquote", 1)
        raise EntityParseError(
            f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
        )

    def _open_pre(self, i: int) -> tuple[_Open, int]:
        source = self.source
        start = i + 3
        end = start
        while end < len(source) and source[end] not in _SPACE and source[end] != "`":
            end += 1
        language = ""
        if end > start and end < len(source) and source[end] != "`":
            language, start = source[start:end], end
        # One line break right after the opening fence is not part of the text.
        if self.at(start) in ("\n", "\r"):
            pair = self.at(start) + self.at(start + 1)
            start += 2 if pair in ("\r\n", "\n\r") else 1
        return _Open("pre", self.units, i, len(self.out), language), start

    def _close(self, opened: _Open, i: int) -> int:
        """Close ``opened`` at its end markup at ``i``; return where to go on."""
        if opened.type in ("underline", "spoiler"):
            self.close(opened, opened.type)
            return i + 2
        if opened.type == "pre":
            extra = {"language": opened.argument} if opened.argument else {}
            self.close(opened, "pre", **extra)
            return i + 3
        if opened.type == "blockquote":
            self.emit("\n")
            self.close(opened, "blockquote")
            return i + 1
        if opened.type in ("text_link", "custom_emoji"):
            return self._close_link(opened, i)
        self.close(opened, opened.type)
        return i + 1

    def _close_link(self, opened: _Open, i: int) -> int:
        source = self.source
        if self.at(i + 1) != "(":
            if opened.type == "custom_emoji":
                raise EntityParseError("Custom emoji entity must contain a tg://emoji URL")
            url = "".join(self.out[opened.result_start :])
            self.close(opened, "text_link", url=url)
            return i + 1
        j = i + 2
        url_chars: list[str] = []
        while j < len(source) and source[j] != ")":
            if source[j] == "\\" and self.at(j + 1) and 0 < ord(self.at(j + 1)) <= 126:
                url_chars.append(source[j + 1])
                j += 2
                continue
            url_chars.append(source[j])
            j += 1
        if j >= len(source):
            what = "a custom emoji URL" if opened.type == "custom_emoji" else "a URL"
            raise EntityParseError(
                f"Can't find end of {what} at byte offset {self.byte_offset(i + 2)}"
            )
        url = "".join(url_chars)
        if opened.type == "custom_emoji":
            found = _CUSTOM_EMOJI_URL.fullmatch(url)
            if found is None:
                raise EntityParseError("Invalid custom emoji URL specified")
            self.close(opened, "custom_emoji", custom_emoji_id=found.group(1))
        else:
            self.close(opened, "text_link", url=url)
        return j + 1

    def _unclosed(self, opened: _Open) -> EntityParseError:
        name = _MARKDOWN_NAMES[opened.type]
        if opened.type == "pre" and opened.argument:
            name = "PreCode"
        return EntityParseError(
            f"Can't find end of {name} entity at byte offset "
            f"{self.byte_offset(opened.source_offset)}"
        )


class _Html(_Parser):
    def parse(self) -> FormattedText:
        source = self.source
        stack: list[_Open] = []
        i = 0
        while i < len(source):
            char = source[i]
            if char == "&":
                decoded, after = self._reference(i)
                if decoded is not None:
                    self.emit(decoded)
                    i = after
                    continue
            if char != "<":
                self.emit(char)
                i += 1
                continue
            i = self._end_tag(i, stack) if self.at(i + 1) == "/" else self._start_tag(i, stack)
        if stack:
            raise EntityParseError(
                f"Can't find end tag corresponding to start tag {stack[-1].type}"
            )
        for entity in self.entities:
            if entity["type"] == "code":
                entity.pop("language", None)  # only a pre block has a language
        return self.result()

    def _reference(self, i: int) -> tuple[str | None, int]:
        """A character reference at ``i`` (``&lt;``, ``&#60;``, ``&#x3c;``), if it is one."""
        source = self.source
        end = i + 1
        if self.at(end) == "#":
            end += 1
            hexadecimal = self.at(end) == "x"
            digits = "0123456789abcdefABCDEF" if hexadecimal else "0123456789"
            end += hexadecimal
            start = end
            while end < len(source) and source[end] in digits:
                end += 1
            if end - i >= 10 or end == start:
                return None, i
            code = int(source[start:end], 16 if hexadecimal else 10)
            if code == 0 or code >= 0x10FFFF:
                return None, i
            if 0xD800 <= code <= 0xDFFF:
                raise EntityParseError(
                    "Text contains invalid Unicode characters after decoding HTML entities, "
                    "check for unmatched surrogate code units"
                )
            decoded = chr(code)
        else:
            while end < len(source) and source[end].isascii() and source[end].isalpha():
                end += 1
            found = _NAMED_REFERENCES.get(source[i + 1 : end])
            if found is None:
                return None, i
            decoded = found
        return decoded, end + 1 if self.at(end) == ";" else end

    def _start_tag(self, i: int, stack: list[_Open]) -> int:
        source = self.source
        j = i + 1
        while j < len(source) and source[j] not in _SPACE and source[j] != ">":
            j += 1
        if j >= len(source):
            raise EntityParseError(f"Unclosed start tag at byte offset {self.byte_offset(i)}")
        tag = source[i + 1 : j].lower()
        if tag not in _HTML_TAGS:
            raise EntityParseError(
                f'Unsupported start tag "{tag}" at byte offset {self.byte_offset(i)}'
            )
        argument = ""
        while True:
            while j < len(source) and source[j] in _SPACE:
                j += 1
            if self.at(j) == ">":
                break
            name_start = j
            while j < len(source) and source[j] not in _SPACE and source[j] != "=":
                j += 1
            name = source[name_start:j]
            if not name:
                raise EntityParseError(
                    f'Empty attribute name in the tag "{tag}" at byte offset {self.byte_offset(i)}'
                )
            while j < len(source) and source[j] in _SPACE:
                j += 1
            if self.at(j) != "=":
                raise EntityParseError(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{tag}" at byte offset {self.byte_offset(i)}'
                )
            j += 1
            while j < len(source) and source[j] in _SPACE:
                j += 1
            if j >= len(source):
                raise EntityParseError(
                    f'Unclosed start tag "{tag}" at byte offset {self.byte_offset(i)}'
                )
            value, j = self._attribute_value(j)
            if j >= len(source):
                raise EntityParseError(f"Unclosed start tag at byte offset {self.byte_offset(i)}")
            argument = _tag_argument(tag, name, value, argument)
        if tag == "span" and argument != "spoiler":
            raise EntityParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self.byte_offset(i)}'
            )
        stack.append(_Open(tag, self.units, i, len(self.out), argument))
        return j + 1

    def _attribute_value(self, j: int) -> tuple[str, int]:
        source = self.source
        quote = source[j]
        if quote not in ("'", '"'):
            start = j
            while j < len(source) and (
                (source[j].isascii() and source[j].isalnum()) or source[j] in ".-"
            ):
                j += 1
            if j < len(source) and source[j] not in _SPACE and source[j] != ">":
                raise EntityParseError(
                    f"Unexpected end of name token at byte offset {self.byte_offset(start)}"
                )
            return source[start:j].lower(), j
        j += 1
        value: list[str] = []
        while j < len(source) and source[j] != quote:
            if source[j] == "&":
                decoded, after = self._reference(j)
                if decoded is not None:
                    value.append(decoded)
                    j = after
                    continue
            value.append(source[j])
            j += 1
        return "".join(value), j + 1 if j < len(source) else j

    def _end_tag(self, i: int, stack: list[_Open]) -> int:
        source = self.source
        if not stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {self.byte_offset(i)}")
        j = i + 2
        while j < len(source) and source[j] not in _SPACE and source[j] != ">":
            j += 1
        name = source[i + 2 : j].lower()
        while j < len(source) and source[j] in _SPACE:
            j += 1
        if self.at(j) != ">":
            raise EntityParseError(f"Unclosed end tag at byte offset {self.byte_offset(i)}")
        opened = stack[-1]
        if name and name != opened.type:
            raise EntityParseError(
                f"Unmatched end tag at byte offset {self.byte_offset(i)}, "
                f'expected "</{opened.type}>", found "</{name}>"'
            )
        stack.pop()
        self._close_tag(opened)
        return j + 1

    def _close_tag(self, opened: _Open) -> None:
        if self.units == opened.offset:
            return  # an empty entity is dropped, whatever its attributes
        if opened.type == "a":
            url = opened.argument or "".join(self.out[opened.result_start :])
            self.close(opened, "text_link", url=url)
        elif opened.type == "tg-emoji":
            if not opened.argument.isdigit() or int(opened.argument) == 0:
                raise EntityParseError("Invalid custom emoji identifier specified")
            self.close(opened, "custom_emoji", custom_emoji_id=opened.argument)
        elif opened.type in ("pre", "code") and self._merge_pre_code(opened):
            return
        elif opened.type == "code" and opened.argument:
            # Kept until a surrounding <pre> closes, which takes it as its language.
            self.close(opened, "code", language=opened.argument)
        else:
            self.close(opened, _HTML_ENTITY_TYPES[opened.type])

    def _merge_pre_code(self, opened: _Open) -> bool:
        """``<pre><code class="language-x">`` is one ``pre`` entity with a language."""
        if not self.entities:
            return False
        last = self.entities[-1]
        same_span = last["offset"] == opened.offset and last["length"] == self.units - opened.offset
        if not same_span:
            return False
        if opened.type == "pre" and last["type"] == "code" and last.get("language"):
            last["type"] = "pre"
            return True
        if opened.type == "code" and last["type"] == "pre" and opened.argument:
            last["language"] = opened.argument
            return True
        return False


def _tag_argument(tag: str, name: str, value: str, current: str) -> str:
    """What an attribute contributes to its tag's entity (a link, a language, …)."""
    if tag == "a" and name == "href":
        return value
    if tag == "code" and name == "class" and value.startswith("language-"):
        return value[len("language-") :]
    if tag == "span" and name == "class" and value.startswith("tg-"):
        return value[len("tg-") :]
    if tag == "tg-emoji" and name == "emoji-id":
        return value
    return current

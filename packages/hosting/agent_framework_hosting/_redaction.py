"""Redacting patterns from a run's text, streamed too: a match split across updates is caught."""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from typing import Any

import regex
from agent_framework import AgentResponseUpdate, Content, Message

from ._types import ChannelRequest, HostedRunResult

__all__ = ["StreamRedactor"]

_CONTEXT = 256
r"""Characters of already-sent text kept before the held tail, for lookbehinds and ``\b``."""

_TEXT_KINDS = ("text", "text_reasoning")
"""The contents whose text a channel shows: the reply and its reasoning."""


class StreamRedactor:
    r"""Replaces every match of ``patterns`` in a run's text: its streamed updates and its result.

    A stream-update hook that sees one update at a time lets a match through when the
    model splits it across updates (``"4111 "``, ``"1111 1111 1111"``). This one holds
    back, per run, the shortest tail of the text that could still become a match, and
    sends it on once it cannot (redacted when it did), or when the run's updates end. What
    reaches the wire, joined, is exactly the text with every match replaced.

    Pass it as a channel's ``stream_update_hook`` (the host opens a run of it for every
    streamed run) and its :meth:`response_hook` as the channel's ``response_hook`` (the
    final result, streamed or not, from which stored and closing objects are built)::

        redactor = StreamRedactor(r"\b(?:\d[ -]?){13,16}\b", replacement="[card]")
        ResponsesChannel(stream_update_hook=redactor, response_hook=redactor.response_hook)

    Patterns apply one after another, each to the text the previous one left. Only text
    and reasoning text are redacted; other contents pass unchanged, in order.

    Args:
        *patterns: Regular expressions (strings or compiled ``re``/``regex`` patterns,
            their flags kept), in the syntax of the ``regex`` package, which is that of
            ``re`` plus more. A pattern that matches the empty string is refused.
        replacement: The text each match becomes, taken as it is (no group references).

    Raises:
        ValueError: No pattern is given, or one matches the empty string.

    """

    def __init__(
        self,
        *patterns: str | re.Pattern[str] | regex.Pattern[str],
        replacement: str = "[redacted]",
    ) -> None:
        if not patterns:
            raise ValueError("StreamRedactor needs at least one pattern")
        self.patterns: tuple[regex.Pattern[str], ...] = tuple(map(_compiled, patterns))
        self.replacement = replacement

    def redact(self, text: str) -> str:
        """``text`` with every match replaced, as a stream of it is redacted."""
        for pattern in self.patterns:
            text = pattern.sub(lambda _match: self.replacement, text)
        return text

    def open_run(self, request: ChannelRequest) -> StreamRedaction:
        """The redaction of one streamed run (the host calls this when the run starts)."""
        return StreamRedaction(self)

    def response_hook(self, result: HostedRunResult, **_: Any) -> HostedRunResult:
        """A response hook redacting the final result's text with the same patterns."""
        response = copy.copy(result.result)
        response.messages = [
            _with_contents(message, [self._redacted(content) for content in message.contents])
            for message in result.result.messages
        ]
        return result.replace(result=response)

    def _redacted(self, content: Content) -> Content:
        if content.type not in _TEXT_KINDS or not content.text:
            return content
        redacted = copy.copy(content)
        redacted.text = self.redact(content.text)
        return redacted


class StreamRedaction:
    """One streamed run's redaction: the tail held back of each text being streamed.

    Texts are told apart by content type (reply or reasoning) and message id; when the
    stream moves on to another text or to another kind of content, the held tail of the
    previous text is released first, so everything keeps its order.
    """

    def __init__(self, redactor: StreamRedactor) -> None:
        self._redactor = redactor
        self._held: _HeldText | None = None

    def update(self, update: AgentResponseUpdate) -> list[AgentResponseUpdate]:
        """The updates to send now for ``update``: none, it redacted, or held text first."""
        if self._held is None and not any(c.type in _TEXT_KINDS for c in update.contents):
            return [update]
        sent: list[AgentResponseUpdate] = []
        contents: list[Content] = []
        for content in update.contents:
            key = (content.type, update.message_id)
            if content.type in _TEXT_KINDS and content.text is not None:
                if self._held is not None and self._held.key != key:
                    _send(sent, update, contents)
                    sent.extend(self._release())
                if self._held is None:
                    redactor = self._redactor
                    self._held = _HeldText(
                        key, redactor.patterns, redactor.replacement, update, content
                    )
                replaces = getattr(content, "merge_mode", None) == "replace"
                if replaces:
                    self._held.restart()
                piece = copy.copy(content)
                piece.text = self._held.feed(content.text)
                if piece.text or replaces:  # an empty replacement still clears the text
                    contents.append(piece)
                continue
            if self._held is not None:
                _send(sent, update, contents)
                sent.extend(self._release())
            contents.append(content)
        _send(sent, update, contents)
        return sent

    def end(self) -> list[AgentResponseUpdate]:
        """The held text of the run, redacted: the updates' end leaves nothing to wait for."""
        return self._release()

    def _release(self) -> list[AgentResponseUpdate]:
        held, self._held = self._held, None
        if held is None:
            return []
        text = held.flush()
        if not text:
            return []
        piece = copy.copy(held.content)
        piece.text = text
        if getattr(piece, "merge_mode", None) == "replace":
            piece.merge_mode = "append"  # pyright: ignore[reportAttributeAccessIssue]
        released = copy.copy(held.update)
        released.contents = [piece]
        return [released]


class _HeldText:
    """One text being streamed, through each pattern in turn: what each still holds."""

    def __init__(
        self,
        key: tuple[str, str | None],
        patterns: Sequence[regex.Pattern[str]],
        replacement: str,
        update: AgentResponseUpdate,
        content: Content,
    ) -> None:
        self.key = key
        self.update = update
        self.content = content
        self._stages = [_Stage(pattern, replacement) for pattern in patterns]

    def restart(self) -> None:
        """The text starts over (a piece that replaces it): what was held is moot."""
        for stage in self._stages:
            stage.restart()

    def feed(self, text: str) -> str:
        for stage in self._stages:
            text = stage.feed(text)
        return text

    def flush(self) -> str:
        text = ""
        for stage in self._stages:
            text = stage.feed(text, final=True)
        return text


class _Stage:
    """One pattern over a text arriving in pieces: redacts what is settled, holds the rest."""

    def __init__(self, pattern: regex.Pattern[str], replacement: str) -> None:
        self._pattern = pattern
        self._replacement = replacement
        self._sent = ""  # the end of the text already passed on, as it was: for lookbehinds
        self._held = ""

    def restart(self) -> None:
        self._sent = self._held = ""

    def feed(self, text: str, *, final: bool = False) -> str:
        """What of the text so far can be passed on now, matches replaced.

        The tail from the first match that more text could still make or change (a
        partial match, or a whole one reaching the end) is held for the next piece;
        ``final`` holds nothing back.
        """
        buffer = self._sent + self._held + text
        start = position = len(self._sent)
        hold = len(buffer)
        passed: list[str] = []
        for match in self._pattern.finditer(buffer, pos=start, partial=not final):
            if not final and (match.partial or match.end() == len(buffer)):
                hold = match.start()
                break
            if match.end() > match.start():
                passed.append(buffer[position : match.start()])
                passed.append(self._replacement)
                position = match.end()
        passed.append(buffer[position:hold])
        self._held = buffer[hold:]
        self._sent = buffer[max(0, hold - _CONTEXT) : hold]
        return "".join(passed)


def _send(
    sent: list[AgentResponseUpdate], update: AgentResponseUpdate, contents: list[Content]
) -> None:
    """Add an update like ``update`` carrying ``contents``, if any, and start a new list."""
    if contents:
        piece = copy.copy(update)
        piece.contents = list(contents)
        sent.append(piece)
        contents.clear()


def _with_contents(message: Message, contents: list[Content]) -> Message:
    changed = copy.copy(message)
    changed.contents = contents
    return changed


def _compiled(pattern: str | re.Pattern[str] | regex.Pattern[str]) -> regex.Pattern[str]:
    if isinstance(pattern, re.Pattern):
        flags = 0
        for re_flag, regex_flag in _FLAGS:
            if pattern.flags & re_flag:
                flags |= regex_flag
        compiled = regex.compile(pattern.pattern, flags)
    elif isinstance(pattern, str):
        compiled = regex.compile(pattern)
    else:
        compiled = pattern
    if compiled.fullmatch("") is not None:
        raise ValueError(f"The pattern {compiled.pattern!r} matches the empty string")
    return compiled


_FLAGS = (
    (re.IGNORECASE, regex.IGNORECASE),
    (re.MULTILINE, regex.MULTILINE),
    (re.DOTALL, regex.DOTALL),
    (re.VERBOSE, regex.VERBOSE),
    (re.ASCII, regex.ASCII),
)
"""``re`` flags and the ``regex`` flags that mean the same."""

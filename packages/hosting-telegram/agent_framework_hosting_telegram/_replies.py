"""Sending a run's result to a chat: text in safe pieces, a live message while streaming, photos."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import time
from collections.abc import Iterator, Mapping
from itertools import islice
from typing import Any, cast

from agent_framework import AgentResponse, Content

from ._api import BotApi, InputFile, TelegramApiError
from ._text import MESSAGE_LIMIT, ParseMode, iter_pieces, render, utf16_length

__all__ = ["DOCUMENT_LIMIT", "ChatReplier"]

logger = logging.getLogger("agent_framework.hosting.telegram")

_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}


DOCUMENT_LIMIT = 50 * 1024 * 1024
"""The largest file a bot may upload: a longer reply goes in several files."""


class ChatReplier:
    """Everything the channel sends to one chat for one update.

    A reply that fits in ``max_reply_messages`` messages is sent as messages; a longer
    one is sent as its first message and then in full as a text file, so that a huge
    reply neither floods the chat nor waits out hours of rate limits.
    """

    def __init__(
        self,
        api: BotApi,
        chat_id: int,
        *,
        parse_mode: ParseMode | None,
        reply_to: int | None = None,
        edit_min_interval: float = 0.4,
        max_reply_messages: int = 5,
    ) -> None:
        self._api = api
        self._chat_id = chat_id
        self._parse_mode: ParseMode | None = parse_mode
        self._reply_to = reply_to
        self._edit_min_interval = edit_min_interval
        self._max_reply_messages = max_reply_messages
        self._live_id: int | None = None
        self._live_text = ""
        self._head = ""
        """The start of the streamed reply: enough to fill the live message, never more."""
        self._next_preview = 0.0
        """When (``time.monotonic()``) the next preview may be tried."""

    async def send_text(self, text: str) -> None:
        """Send ``text`` (a command's answer, an apology) as one or more messages."""
        await self._send_reply(text)

    async def show_progress(self, delta: str) -> None:
        """Add ``delta`` to the streamed reply and show it in one live message.

        The live message is sent, then edited, at most once per interval. Previews are
        best effort: each is tried once, never retried, and one that fails is skipped;
        after a rate limit no preview is tried before its ``retry_after``. The final reply
        (`finish`) is what must arrive. The live message is plain text: a half-streamed
        reply is not valid Markdown yet. Only the start of the reply is kept for it, so
        each call costs the same however long the reply grows.
        """
        room = MESSAGE_LIMIT + 1 - len(self._head)
        if room > 0:
            self._head += delta[:room]
        now = time.monotonic()
        if now < self._next_preview:
            return
        shown = _preview(self._head)
        if not shown.strip() or shown == self._live_text:
            return
        self._next_preview = now + self._edit_min_interval
        try:
            if self._live_id is None:
                payload = self._payload(shown, None)
                sent = await self._api.call("sendMessage", payload, retry=False)
                self._live_id = _message_id(sent)
            else:
                await self._edit(shown, None, retry=False)
            self._live_text = shown
        except TelegramApiError as error:
            if error.retry_after is not None:
                self._next_preview = time.monotonic() + max(
                    self._edit_min_interval, error.retry_after
                )
            logger.warning("Streaming preview to chat %s skipped: %s", self._chat_id, error)

    async def finish(self, response: AgentResponse) -> None:
        """Deliver the final reply: the text (replacing the live message) and any images."""
        await self._send_reply(response.text)
        for image in _images(response):
            await self._send_photo(image)

    async def _send_reply(self, text: str) -> None:
        """Send ``text`` as messages, or as its first message and a file when it is long.

        The first piece replaces the live message, when there is one.
        """
        pieces = list(islice(iter_pieces(text), self._max_reply_messages + 1))
        if not pieces[0].strip():
            pieces = ["…"] if self._live_id is not None else []
        as_file = len(pieces) > self._max_reply_messages
        for index, piece in enumerate(pieces[:1] if as_file else pieces):
            await self._send(piece, edit=index == 0 and self._live_id is not None)
        if as_file:
            await self._send_document(text)

    def _payload(self, text: str, parse_mode: ParseMode | None) -> dict[str, Any]:
        payload: dict[str, Any] = {"chat_id": self._chat_id, "text": text}
        if parse_mode is not None:
            payload["parse_mode"] = parse_mode
        if self._reply_to is not None:
            payload["reply_parameters"] = {
                "message_id": self._reply_to,
                "allow_sending_without_reply": True,
            }
        return payload

    async def _send(self, text: str, *, edit: bool = False) -> None:
        """Send (or edit into the live message) one piece, formatted when a mode is set.

        Rendering only drops markup, so the piece's length bounds what Telegram counts.
        If Telegram rejects the formatted text, the piece goes again as plain text.
        """
        if self._parse_mode is not None:
            try:
                await self._deliver(render(text, self._parse_mode), self._parse_mode, edit=edit)
                return
            except TelegramApiError as error:
                if error.error_code != 400:
                    raise
                logger.warning("Chat %s rejected formatted text (%s)", self._chat_id, error)
        await self._deliver(text, None, edit=edit)

    async def _deliver(self, text: str, parse_mode: ParseMode | None, *, edit: bool) -> None:
        if edit:
            await self._edit(text, parse_mode)
        else:
            await self._api.call("sendMessage", self._payload(text, parse_mode))

    async def _edit(self, text: str, parse_mode: ParseMode | None, *, retry: bool = True) -> None:
        payload = self._payload(text, parse_mode)
        payload.pop("reply_parameters", None)
        payload["message_id"] = self._live_id
        try:
            await self._api.call("editMessageText", payload, retry=retry)
        except TelegramApiError as error:
            if "message is not modified" not in error.description:
                raise

    async def _send_document(self, text: str) -> None:
        """Send the whole of ``text`` as UTF-8 text files, each within the upload limit."""
        parts = await asyncio.to_thread(_file_parts, text, DOCUMENT_LIMIT)
        for number, part in enumerate(parts, start=1):
            name = "reply.txt" if len(parts) == 1 else f"reply-{number}.txt"
            caption = (
                "The whole reply, as a file."
                if len(parts) == 1
                else (f"The whole reply, as files: part {number} of {len(parts)}.")
            )
            payload: dict[str, Any] = {"chat_id": self._chat_id, "caption": caption}
            files = (InputFile("document", name, part, "text/plain; charset=utf-8"),)
            await self._api.call("sendDocument", payload, files=files)

    async def _send_photo(self, image: Content) -> None:
        payload: dict[str, Any] = {"chat_id": self._chat_id}
        uri = image.uri or ""
        if uri.startswith("data:"):
            data = _data_bytes(uri)
            if data is None:
                logger.warning(
                    "Chat %s: skipped an image with an unreadable data URI", self._chat_id
                )
                return
            media_type = image.media_type or "image/png"
            name = f"image.{_EXTENSIONS.get(media_type, 'png')}"
            files = (InputFile("photo", name, data, media_type),)
            await self._api.call("sendPhoto", payload, files=files)
        else:
            payload["photo"] = uri
            await self._api.call("sendPhoto", payload)


def _preview(head: str) -> str:
    """The live message's text: the reply so far, cut to one message with an ellipsis."""
    if utf16_length(head) <= MESSAGE_LIMIT:
        return head
    return next(iter_pieces(head, MESSAGE_LIMIT - 1)) + "…"


def _file_parts(text: str, limit: int) -> list[bytes]:
    """``text`` as UTF-8, cut into parts of at most ``limit`` bytes between characters."""
    data = text.encode("utf-8", "replace")
    parts: list[bytes] = []
    start = 0
    while len(data) - start > limit:
        end = start + limit
        while data[end] & 0xC0 == 0x80:  # a continuation byte: back to the character's start
            end -= 1
        parts.append(data[start:end])
        start = end
    parts.append(data[start:])
    return parts


def _message_id(sent: object) -> int | None:
    if isinstance(sent, Mapping):
        value: object = cast("Mapping[str, object]", sent).get("message_id")
        if isinstance(value, int):
            return value
    return None


def _images(response: AgentResponse) -> Iterator[Content]:
    """Images in the reply: data or URI contents with an image type, and generated images."""
    for message in response.messages:
        for content in message.contents:
            yield from _image_contents(content)


def _image_contents(content: Content) -> Iterator[Content]:
    if content.type in ("data", "uri") and (content.media_type or "").startswith("image/"):
        uri = content.uri or ""
        if uri.startswith(("data:", "https://", "http://")):
            yield content
    elif content.type == "image_generation_tool_result":
        for output in _as_contents(content.outputs):
            yield from _image_contents(output)


def _as_contents(value: object) -> list[Content]:
    if isinstance(value, Content):
        return [value]
    if isinstance(value, list | tuple):
        return [item for item in value if isinstance(item, Content)]  # pyright: ignore[reportUnknownVariableType]
    return []


def _data_bytes(uri: str) -> bytes | None:
    header, _, encoded = uri.partition(",")
    if not header.endswith(";base64"):
        return None
    with contextlib.suppress(binascii.Error, ValueError):
        return base64.b64decode(encoded, validate=True)
    return None

"""Telegram updates read off the wire: every field the channel uses checked for its exact type."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, cast

__all__ = [
    "MediaKind",
    "ReceivedFile",
    "Sender",
    "TelegramMessage",
    "TelegramUpdate",
    "UpdateError",
    "parse_update",
]

MediaKind = Literal["photo", "document", "voice", "audio", "video", "video_note", "animation"]

_MEDIA_TYPES: dict[MediaKind, str] = {
    "photo": "image/jpeg",
    "document": "application/octet-stream",
    "voice": "audio/ogg",
    "audio": "audio/mpeg",
    "video": "video/mp4",
    "video_note": "video/mp4",
    "animation": "video/mp4",
}
"""Each kind of media, with the type Telegram stores it as when the message names none."""

_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*", re.IGNORECASE)
"""A media type as the agent gets it: ``type/subtype``, without parameters."""
_T = TypeVar("_T")
_INT64 = range(-(2**63), 2**63)
_SENDER_ATTRIBUTES = ("username", "first_name", "last_name", "language_code")


class UpdateError(ValueError):
    """A body that is not an update as the Bot API sends one; the message names the field."""


@dataclass(frozen=True, slots=True)
class ReceivedFile:
    """A file attached to a message, as ``getFile`` can fetch it."""

    kind: MediaKind
    file_id: str
    size: int | None
    """The size Telegram declared, when it did."""
    media_type: str
    name: str | None = None
    pixels: int = 0
    """Width times height, for the sizes of a photo."""


@dataclass(frozen=True, slots=True)
class Sender:
    """Who sent a message: their user id and what Telegram says about them."""

    id: int
    attributes: dict[str, object] = field(default_factory=dict[str, object])
    """``username``, ``first_name``, ``last_name``, ``language_code`` and ``is_bot``, when sent."""


@dataclass(frozen=True, slots=True)
class TelegramMessage:
    """A user's message, with what the channel reads of it."""

    message_id: int
    chat_id: int
    chat_type: str
    sender: Sender | None
    text: str | None
    """The message's text, or the caption of its media."""
    files: tuple[ReceivedFile, ...] = ()
    """The message's media: one file, or every size of a photo."""

    @property
    def is_group(self) -> bool:
        """Whether the chat is a group or a supergroup."""
        return self.chat_type in ("group", "supergroup")


@dataclass(frozen=True, slots=True)
class TelegramUpdate:
    """An update: its id, and the message it carries (``None`` for other kinds of update)."""

    update_id: int
    message: TelegramMessage | None


def parse_update(body: object) -> TelegramUpdate:
    """Read an update the Bot API sent (a webhook body, or an item of ``getUpdates``).

    Fields the channel does not use are not looked at, so updates Telegram extends keep
    working; every field it does use must have the type the Bot API documents.

    Raises:
        UpdateError: ``body`` is not an update, or a field the channel uses has the wrong
            type; the message names that field, never its value.

    """
    update = _object(body, "the update")
    update_id = _required(_integer, update, "update_id", "update_id")
    if "message" not in update:
        return TelegramUpdate(update_id, None)
    return TelegramUpdate(update_id, _message(update["message"]))


def _message(value: object) -> TelegramMessage:
    message = _object(value, "message")
    message_id = _required(_integer, message, "message_id", "message.message_id")
    chat = _object(message.get("chat"), "message.chat")
    chat_id = _required(_integer, chat, "id", "message.chat.id")
    chat_type = _required(_string, chat, "type", "message.chat.type")
    text = _string(message, "text", "message.text")
    caption = _string(message, "caption", "message.caption")
    return TelegramMessage(
        message_id=message_id,
        chat_id=chat_id,
        chat_type=chat_type,
        sender=_sender(message.get("from")) if "from" in message else None,
        text=text if text is not None else caption,
        files=_files(message),
    )


def _sender(value: object) -> Sender:
    sender = _object(value, "message.from")
    user_id = _required(_integer, sender, "id", "message.from.id")
    attributes: dict[str, object] = {}
    for name in _SENDER_ATTRIBUTES:
        found = _string(sender, name, f"message.from.{name}")
        if found is not None:
            attributes[name] = found
    if "is_bot" in sender:
        is_bot = sender["is_bot"]
        if not isinstance(is_bot, bool):
            raise UpdateError("message.from.is_bot must be a boolean")
        attributes["is_bot"] = is_bot
    return Sender(user_id, attributes)


def _files(message: Mapping[str, Any]) -> tuple[ReceivedFile, ...]:
    if "photo" in message:
        sizes = message["photo"]
        if not isinstance(sizes, list):
            raise UpdateError("message.photo must be an array")
        return tuple(
            _file(size, "photo", f"message.photo[{index}]")
            for index, size in enumerate(cast("list[object]", sizes))
        )
    for kind in _MEDIA_TYPES:
        if kind != "photo" and kind in message:
            return (_file(message[kind], kind, f"message.{kind}"),)
    return ()


def _file(value: object, kind: MediaKind, where: str) -> ReceivedFile:
    found = _object(value, where)
    file_id = _required(_string, found, "file_id", f"{where}.file_id")
    size = _integer(found, "file_size", f"{where}.file_size")
    if size is not None and size < 0:
        raise UpdateError(f"{where}.file_size must not be negative")
    if kind == "photo":
        width = _required(_integer, found, "width", f"{where}.width")
        height = _required(_integer, found, "height", f"{where}.height")
        return ReceivedFile(kind, file_id, size, _MEDIA_TYPES[kind], pixels=width * height)
    media_type = _string(found, "mime_type", f"{where}.mime_type")
    return ReceivedFile(
        kind,
        file_id,
        size,
        media_type if media_type and _MEDIA_TYPE.fullmatch(media_type) else _MEDIA_TYPES[kind],
        name=_string(found, "file_name", f"{where}.file_name"),
    )


def _object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise UpdateError(f"{where} must be an object")
    return cast("dict[str, Any]", value)


def _required(
    read: Callable[[Mapping[str, Any], str, str], _T | None],
    found: Mapping[str, Any],
    key: str,
    where: str,
) -> _T:
    value = read(found, key, where)
    if value is None:
        raise UpdateError(f"{where} is missing")
    return value


def _integer(found: Mapping[str, Any], key: str, where: str) -> int | None:
    if key not in found:
        return None
    value: object = found[key]
    # bool is an int subclass; JSON's true is not a number.
    if type(value) is not int or value not in _INT64:
        raise UpdateError(f"{where} must be a 64-bit integer")
    return value


def _string(found: Mapping[str, Any], key: str, where: str) -> str | None:
    if key not in found:
        return None
    value: object = found[key]
    if not isinstance(value, str):
        raise UpdateError(f"{where} must be a string")
    return value

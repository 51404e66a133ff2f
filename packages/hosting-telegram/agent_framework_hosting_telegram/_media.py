"""Files users send: the one to fetch, fetched within a size limit, handed to the agent as data."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, cast

from agent_framework import Content
from agent_framework_hosting import data_content

from ._api import BotApi, TelegramApiError
from ._parse import ReceivedFile

__all__ = ["MediaUnavailable", "fetch_media"]

logger = logging.getLogger("agent_framework.hosting.telegram")

_FETCH_FAILED = "Sorry, I could not fetch that file. Please send it again."


class MediaUnavailable(Exception):
    """A received file the agent will not get; ``reply`` tells the user why."""

    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.reply = reply


async def fetch_media(api: BotApi, files: Sequence[ReceivedFile], *, max_bytes: int) -> Content:
    """Download the message's file (a photo's largest size within ``max_bytes``) as data.

    The file goes through the channel, so the agent never sees a URL with the bot token.

    Raises:
        MediaUnavailable: The file is larger than ``max_bytes`` (Telegram's declared size,
            ``getFile``'s, or the bytes received), or could not be fetched.

    """
    chosen = _choose(files, max_bytes)
    too_large = MediaUnavailable(
        f"That file is too large for me: I can take files up to {_size(max_bytes)}."
    )
    if chosen is None:
        raise too_large
    try:
        found: object = await api.call("getFile", {"file_id": chosen.file_id})
        info = cast("dict[str, Any]", found) if isinstance(found, dict) else {}
        path: object = info.get("file_path")
        size: object = info.get("file_size")
        if type(size) is int and size > max_bytes:
            raise too_large
        if not isinstance(path, str) or not path:
            raise TelegramApiError("getFile", "no file_path in the answer")
        data = await api.download(path, max_bytes=max_bytes)
    except TelegramApiError as error:
        # Telegram's own servers hand out files of up to 20 MB.
        if "file is too big" in error.description:
            raise too_large from None
        logger.warning("A received %s could not be fetched: %s", chosen.kind, error)
        raise MediaUnavailable(_FETCH_FAILED) from None
    if data is None:
        raise too_large
    return data_content(data, chosen.media_type, name=chosen.name)


def _choose(files: Sequence[ReceivedFile], max_bytes: int) -> ReceivedFile | None:
    """The file to fetch: of a photo's sizes, the largest within ``max_bytes``."""
    fitting = [f for f in files if f.size is None or f.size <= max_bytes]
    return max(fitting, key=lambda f: f.pixels, default=None)


def _size(count: int) -> str:
    """``count`` bytes for people: ``20 MB``, ``512 KB``, ``100 bytes``."""
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if count >= scale:
            return f"{count / scale:.3g} {unit}"
    return f"{count} bytes"

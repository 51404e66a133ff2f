"""A local fake of the Telegram Bot API, for tests and for running a bot offline.

:class:`FakeBotApi` is a Starlette app that answers the Bot API methods a bot uses
(``getMe``, ``getUpdates``, ``sendMessage``, ``editMessageText``, ``sendPhoto``,
``getFile`` and file downloads, ``setWebhook``, …), records every call, keeps each chat's
messages as they end up after edits, and can be told to fail a method. Serve it on a
loopback port (``agent_framework_hosting.testing.LoopbackServer``) and point
``TelegramChannel(api_base=...)`` at it.

It is thread-safe: the server answers in its own thread while a test reads and feeds it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from typing import Any, cast

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ._text import MESSAGE_LIMIT, utf16_length

__all__ = ["BotCall", "FakeBotApi", "SentMessage", "wait_until"]


@dataclass(frozen=True)
class BotCall:
    """One Bot API call the bot made."""

    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict[str, bytes])


@dataclass
class SentMessage:
    """A message the bot sent, as it stands after its edits."""

    chat_id: int
    message_id: int
    text: str | None = None
    parse_mode: str | None = None
    photo: bytes | str | None = None
    edits: int = 0
    reply_to: int | None = None


@dataclass(frozen=True)
class _Failure:
    error_code: int
    description: str
    retry_after: int | None


class FakeBotApi:
    """A Bot API server for one bot, in memory.

    Args:
        token: The only token it accepts (others get ``401 Unauthorized``).
        username: The bot's username, as ``getMe`` reports it.

    """

    def __init__(self, token: str = "123456:TEST-token", *, username: str = "fake_bot") -> None:
        self.token = token
        self.username = username
        self._lock = threading.Lock()
        self._calls: list[BotCall] = []
        self._pending: list[dict[str, Any]] = []
        self._messages: dict[tuple[int, int], SentMessage] = {}
        self._files: dict[str, tuple[str, bytes]] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._file_ids = itertools.count(1)
        self.confirmed_offset = 0
        """The highest ``offset`` a ``getUpdates`` call has confirmed."""
        self.webhook: dict[str, Any] | None = None
        """What ``setWebhook`` registered (``url``, ``secret_token``, …), or ``None``."""
        self.commands: list[dict[str, str]] = []
        """What ``setMyCommands`` registered."""
        self.app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._method, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self._download, methods=["GET"]),
            ]
        )

    # -- feeding the bot -------------------------------------------------------------

    def message_update(
        self,
        chat_id: int,
        text: str | None = None,
        *,
        user_id: int | None = None,
        chat_type: str = "private",
        caption: str | None = None,
        photo: bytes | None = None,
        username: str = "tester",
    ) -> dict[str, Any]:
        """Build an update carrying a user's message (a photo is stored as a file first)."""
        sender = user_id if user_id is not None else chat_id
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": chat_type},
            "from": {"id": sender, "is_bot": False, "first_name": "Test", "username": username},
        }
        if text is not None:
            message["text"] = text
            if text.startswith("/"):
                length = len(text.split(maxsplit=1)[0])
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        if caption is not None:
            message["caption"] = caption
        if photo is not None:
            small = self.add_file(photo[: max(1, len(photo) // 4)])
            large = self.add_file(photo)
            message["photo"] = [
                {"file_id": small, "file_unique_id": small, "width": 90, "height": 90},
                {
                    "file_id": large,
                    "file_unique_id": large,
                    "width": 800,
                    "height": 800,
                    "file_size": len(photo),
                },
            ]
        return {"update_id": next(self._update_ids), "message": message}

    def enqueue(self, update: dict[str, Any]) -> None:
        """Make ``update`` available to ``getUpdates`` (at most ``limit`` per call, as Telegram)."""
        with self._lock:
            self._pending.append(update)

    def add_file(self, data: bytes) -> str:
        """Store a file the bot can fetch with ``getFile``; return its ``file_id``."""
        file_id = f"file-{next(self._file_ids)}"
        with self._lock:
            self._files[file_id] = (f"photos/{file_id}.jpg", data)
        return file_id

    def fail_next(
        self,
        method: str,
        *,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with an error."""
        with self._lock:
            self._failures.setdefault(method, []).extend(
                [_Failure(error_code, description, retry_after)] * times
            )

    # -- reading what the bot did ----------------------------------------------------

    @property
    def calls(self) -> list[BotCall]:
        """Every call so far, in order."""
        with self._lock:
            return list(self._calls)

    def calls_of(self, method: str) -> list[BotCall]:
        """The calls of one method, in order."""
        return [call for call in self.calls if call.method == method]

    def messages(self, chat_id: int) -> list[SentMessage]:
        """The messages the bot sent to ``chat_id``, in order, as they stand now."""
        with self._lock:
            return [
                message for (chat, _), message in sorted(self._messages.items()) if chat == chat_id
            ]

    def texts(self, chat_id: int) -> list[str]:
        """The texts of the messages sent to ``chat_id``, as they stand now."""
        return [m.text for m in self.messages(chat_id) if m.text is not None]

    # -- the server ------------------------------------------------------------------

    async def _method(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return _error(401, "Unauthorized")
        method: str = request.path_params["method"]
        params, files = await _params(request)
        with self._lock:
            self._calls.append(BotCall(method, params, files))
            queued = self._failures.get(method)
            failure = queued.pop(0) if queued else None
        if failure is not None:
            return _error(failure.error_code, failure.description, failure.retry_after)
        handler = getattr(self, f"_on_{method}", None)
        if handler is None:
            return _error(404, "Not Found")
        try:
            result = await handler(params, files)
        except _BadRequest as bad:
            return _error(400, f"Bad Request: {bad}")
        return JSONResponse({"ok": True, "result": result})

    async def _download(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return _error(401, "Unauthorized")
        with self._lock:
            found = [
                data for path, data in self._files.values() if path == request.path_params["path"]
            ]
        if not found:
            return _error(404, "Not Found")
        return Response(found[0], media_type="image/jpeg")

    async def _on_getMe(self, _params: dict[str, Any], _files: dict[str, bytes]) -> Any:
        bot_id = int(self.token.split(":", 1)[0])
        return {"id": bot_id, "is_bot": True, "first_name": "Fake", "username": self.username}

    async def _on_getUpdates(self, params: dict[str, Any], _files: dict[str, bytes]) -> Any:
        offset = int(params.get("offset") or 0)
        limit = min(100, max(1, int(params.get("limit") or 100)))
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        with self._lock:
            # Like Telegram, the call confirms (forgets) the updates below its offset once,
            # when it arrives; a long poll still waiting does not drop what is added later.
            self.confirmed_offset = max(self.confirmed_offset, offset)
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        while True:
            with self._lock:
                ready = [u for u in self._pending if u["update_id"] >= offset][:limit]
            if ready or time.monotonic() >= deadline:
                return ready
            await asyncio.sleep(0.01)

    async def _on_sendMessage(self, params: dict[str, Any], _files: dict[str, bytes]) -> Any:
        text = _checked_text(params)
        chat_id = int(params["chat_id"])
        reply = cast("dict[str, Any]", params.get("reply_parameters") or {})
        message = SentMessage(
            chat_id,
            next(self._message_ids),
            text=text,
            parse_mode=params.get("parse_mode"),
            reply_to=reply.get("message_id"),
        )
        with self._lock:
            self._messages[chat_id, message.message_id] = message
        return _message_json(message)

    async def _on_editMessageText(self, params: dict[str, Any], _files: dict[str, bytes]) -> Any:
        text = _checked_text(params)
        key = (int(params["chat_id"]), int(params["message_id"]))
        with self._lock:
            message = self._messages.get(key)
            if message is None:
                raise _BadRequest("message to edit not found")
            if message.text == text and message.parse_mode == params.get("parse_mode"):
                raise _BadRequest(
                    "message is not modified: specified new message content and reply markup "
                    "are exactly the same as a current content and reply markup of the message"
                )
            message.text = text
            message.parse_mode = params.get("parse_mode")
            message.edits += 1
        return _message_json(message)

    async def _on_sendPhoto(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        chat_id = int(params["chat_id"])
        photo: bytes | str | None = files.get("photo") or params.get("photo")
        if not photo:
            raise _BadRequest("there is no photo in the request")
        message = SentMessage(chat_id, next(self._message_ids), photo=photo)
        with self._lock:
            self._messages[chat_id, message.message_id] = message
        return _message_json(message)

    async def _on_sendChatAction(self, _params: dict[str, Any], _files: dict[str, bytes]) -> Any:
        return True

    async def _on_setMyCommands(self, params: dict[str, Any], _files: dict[str, bytes]) -> Any:
        self.commands = list(params.get("commands") or [])
        return True

    async def _on_setWebhook(self, params: dict[str, Any], _files: dict[str, bytes]) -> Any:
        self.webhook = dict(params)
        return True

    async def _on_deleteWebhook(self, _params: dict[str, Any], _files: dict[str, bytes]) -> Any:
        self.webhook = None
        return True

    async def _on_getFile(self, params: dict[str, Any], _files: dict[str, bytes]) -> Any:
        file_id = str(params.get("file_id"))
        with self._lock:
            stored = self._files.get(file_id)
        if stored is None:
            raise _BadRequest("invalid file_id")
        path, data = stored
        return {
            "file_id": file_id,
            "file_unique_id": file_id,
            "file_size": len(data),
            "file_path": path,
        }


async def wait_until(condition: Callable[[], bool], what: str, *, within: float = 30.0) -> None:
    """Wait until ``condition()`` holds, checking every 10 ms; raise `TimeoutError` naming ``what``.

    For example, that a polling bot fetched an update and answered it::

        await wait_until(
            lambda: fake.confirmed_offset > update["update_id"] and not channel.pending_updates,
            "the bot's answer",
        )
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


class _BadRequest(Exception):
    pass


def _error(code: int, description: str, retry_after: int | None = None) -> JSONResponse:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return JSONResponse(body, status_code=code)


async def _params(request: Request) -> tuple[dict[str, Any], dict[str, bytes]]:
    """A call's parameters from JSON, a form or the query string, and uploaded files."""
    content_type = request.headers.get("content-type", "")
    params: dict[str, Any] = dict(request.query_params)
    files: dict[str, bytes] = {}
    if content_type.startswith("application/json"):
        body: object = json.loads(await request.body() or b"{}")
        params.update(cast("dict[str, Any]", body) if isinstance(body, dict) else {})
    elif content_type.startswith("multipart/form-data"):
        head = f"Content-Type: {content_type}\r\n\r\n".encode()
        parsed = BytesParser(policy=policy.HTTP).parsebytes(head + await request.body())
        for part in parsed.iter_parts():
            name = part.get_param("name", header="content-disposition")
            data = part.get_payload(decode=True)
            if not isinstance(name, str) or not isinstance(data, bytes):
                continue
            if part.get_filename() is None:
                params[name] = _form_value(data.decode())
            else:
                files[name] = data
    return params, files


def _form_value(value: str) -> Any:
    """Form fields carry JSON for structured values, like the Bot API reads them."""
    if value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _checked_text(params: dict[str, Any]) -> str:
    text = params.get("text")
    if not isinstance(text, str) or not text.strip():
        raise _BadRequest("message text is empty")
    if utf16_length(text) > MESSAGE_LIMIT:
        raise _BadRequest("message is too long")
    return text


def _message_json(message: SentMessage) -> dict[str, Any]:
    body: dict[str, Any] = {
        "message_id": message.message_id,
        "date": int(time.time()),
        "chat": {"id": message.chat_id, "type": "private"},
    }
    if message.text is not None:
        body["text"] = message.text
    return body

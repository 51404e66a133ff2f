"""`FakeBotApi`: a Bot API server in memory that refuses what Telegram refuses."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from agent_framework_hosting import WireError, decode_json
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ._entities import EntityParseError, FormattedText, parse_formatted_text
from ._rates import RateLimits, RateModel

__all__ = ["BotCall", "BotError", "FakeBotApi", "Hold", "SentMessage"]

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
DOWNLOAD_LIMIT = 20 * 1024 * 1024
"""The largest file ``getFile`` hands out on Telegram's own servers."""
UPLOAD_LIMIT = 50 * 1024 * 1024
"""The largest file a bot may upload."""
_PARSE_MODES = ("markdownv2", "html")
_CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip
_SENDS = frozenset({"sendMessage", "editMessageText", "sendPhoto", "sendDocument"})
"""The methods Telegram's rate limits count."""


@dataclass(frozen=True)
class BotCall:
    """One Bot API call the bot made, as it arrived."""

    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict[str, bytes])


@dataclass(frozen=True)
class BotError:
    """An error the fake answered: injected with `FakeBotApi.fail_next`, or by Telegram's rules."""

    method: str
    error_code: int
    description: str
    retry_after: int | None = None


@dataclass
class SentMessage:
    """A message the bot sent, as it stands after its edits."""

    chat_id: int
    message_id: int
    text: str | None = None
    """The text as Telegram shows it: markup parsed, surrounding whitespace trimmed."""
    markup: str | None = None
    """The text as the bot sent it."""
    parse_mode: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    photo: bytes | str | None = None
    document: bytes | str | None = None
    file_name: str | None = None
    caption: str | None = None
    """The photo's or document's caption, as Telegram shows it."""
    edits: int = 0
    reply_to: int | None = None


class Hold:
    """Calls of a method held unanswered until `release` (see `FakeBotApi.hold`)."""

    def __init__(self, method: str, chat_id: int | None) -> None:
        self.method = method
        self.chat_id = chat_id
        self.waiting = 0
        """How many calls are held now."""
        self._released = threading.Event()

    def release(self) -> None:
        """Answer the held calls, and every later one, as usual."""
        self._released.set()

    @property
    def released(self) -> bool:
        """Whether `release` was called."""
        return self._released.is_set()

    def matches(self, method: str, params: Mapping[str, Any]) -> bool:
        """Whether a call of ``method`` with ``params`` is held."""
        if self.released or method != self.method:
            return False
        return self.chat_id is None or str(params.get("chat_id")) == str(self.chat_id)


@dataclass(frozen=True)
class _Failure:
    error_code: int
    description: str
    retry_after: int | None
    body: str | None


class _Refused(Exception):
    """A call Telegram would refuse: the status, the description and any ``retry_after``."""

    def __init__(self, error_code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.error = (error_code, description, retry_after)


def _bad_request(description: str) -> _Refused:
    return _Refused(400, f"Bad Request: {description}")


class FakeBotApi:
    """A Bot API server for one bot, in memory, as strict as Telegram where a bot meets it.

    It parses ``MarkdownV2`` and ``HTML`` the way Telegram does and refuses what Telegram
    refuses (``can't parse entities``); measures a message's length (4,096) and a
    caption's (1,024) after parsing, in UTF-16 units; refuses a call without its required
    fields with ``400``, ``getUpdates`` while a webhook is set (or while another
    ``getUpdates`` waits) with ``409``, ``getFile`` for a file over 20 MB, and an upload
    over 50 MB. With ``rate_limits`` it answers sends past Telegram's rates ``429`` with
    ``retry_after``, so a bot's waiting is tested rather than injected.

    Args:
        token: The only token it accepts (others get ``401 Unauthorized``).
        username: The bot's username, as ``getMe`` reports it.
        rate_limits: Telegram's rate limits to enforce, or ``None`` for none.

    """

    def __init__(
        self,
        token: str = "123456:TEST-token",
        *,
        username: str = "fake_bot",
        rate_limits: RateLimits | None = None,
    ) -> None:
        self.token = token
        self.username = username
        self._lock = threading.Lock()
        self._calls: list[BotCall] = []
        self._errors: list[BotError] = []
        self._pending: list[dict[str, Any]] = []
        self._messages: dict[tuple[int, int], SentMessage] = {}
        self._files: dict[str, tuple[str, bytes, str]] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._holds: list[Hold] = []
        self._rates = RateModel(rate_limits) if rate_limits is not None else None
        self._polls = itertools.count(1)
        self._current_poll = 0
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
        document: bytes | None = None,
        voice: bytes | None = None,
        audio: bytes | None = None,
        video: bytes | None = None,
        video_note: bytes | None = None,
        mime_type: str | None = None,
        file_name: str | None = None,
        file_size: int | None = None,
    ) -> dict[str, Any]:
        """Build an update carrying a user's message; its media are stored as files first.

        ``mime_type``, ``file_name`` and ``file_size`` describe the document, voice, audio
        or video (``file_size`` defaults to the data's length; a different one declares
        a size the data does not have).
        """
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
            small = self.add_file(photo[: max(1, len(photo) // 4)], media_type="image/jpeg")
            large = self.add_file(photo, media_type="image/jpeg")
            message["photo"] = [
                {"file_id": small, "file_unique_id": small, "width": 90, "height": 90},
                {
                    "file_id": large,
                    "file_unique_id": large,
                    "width": 800,
                    "height": 800,
                    "file_size": len(photo) if file_size is None else file_size,
                },
            ]
        media = {
            "document": document,
            "voice": voice,
            "audio": audio,
            "video": video,
            "video_note": video_note,
        }
        for kind, data in media.items():
            if data is None:
                continue
            stored_type = mime_type or "application/octet-stream"
            file_id = self.add_file(data, media_type=stored_type)
            entry: dict[str, Any] = {
                "file_id": file_id,
                "file_unique_id": file_id,
                "file_size": len(data) if file_size is None else file_size,
            }
            if mime_type is not None:
                entry["mime_type"] = mime_type
            if file_name is not None:
                entry["file_name"] = file_name
            message[kind] = entry
        return {"update_id": next(self._update_ids), "message": message}

    def enqueue(self, update: dict[str, Any]) -> None:
        """Make ``update`` available to ``getUpdates`` (at most ``limit`` per call, as Telegram)."""
        with self._lock:
            self._pending.append(update)

    def add_file(self, data: bytes, *, media_type: str = "image/jpeg") -> str:
        """Store a file the bot can fetch with ``getFile``; return its ``file_id``."""
        file_id = f"file-{next(self._file_ids)}"
        with self._lock:
            self._files[file_id] = (f"files/{file_id}", data, media_type)
        return file_id

    def fail_next(
        self,
        method: str,
        *,
        error_code: int,
        description: str = "",
        retry_after: int | None = None,
        times: int = 1,
        body: str | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with an error.

        ``method`` ``"file"`` fails file downloads. ``body`` answers with that text (an
        HTML page, say, as a proxy in front of the Bot API would) instead of the Bot API's
        JSON error.
        """
        with self._lock:
            self._failures.setdefault(method, []).extend(
                [_Failure(error_code, description, retry_after, body)] * times
            )

    def hold(self, method: str, *, chat_id: int | None = None) -> Hold:
        """Leave calls of ``method`` (to ``chat_id``, when given) unanswered until released."""
        held = Hold(method, chat_id)
        with self._lock:
            self._holds.append(held)
        return held

    # -- reading what the bot did ----------------------------------------------------

    @property
    def calls(self) -> list[BotCall]:
        """Every call so far, in the order they arrived."""
        with self._lock:
            return list(self._calls)

    def calls_of(self, method: str) -> list[BotCall]:
        """The calls of one method, in order."""
        return [call for call in self.calls if call.method == method]

    @property
    def errors(self) -> list[BotError]:
        """Every error answered so far, in order."""
        with self._lock:
            return list(self._errors)

    def messages(self, chat_id: int) -> list[SentMessage]:
        """The messages the bot sent to ``chat_id``, in order, as they stand now."""
        with self._lock:
            return [
                message for (chat, _), message in sorted(self._messages.items()) if chat == chat_id
            ]

    def texts(self, chat_id: int) -> list[str]:
        """The texts of the messages sent to ``chat_id``, as Telegram shows them now."""
        return [m.text for m in self.messages(chat_id) if m.text is not None]

    # -- the server ------------------------------------------------------------------

    async def _method(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return _error(401, "Unauthorized")
        method: str = request.path_params["method"]
        try:
            params, files = await _params(request)
        except _Refused as refused:
            return self._refuse(method, *refused.error)
        with self._lock:
            self._calls.append(BotCall(method, params, {k: v for k, (_, v) in files.items()}))
            queued = self._failures.get(method)
            failure = queued.pop(0) if queued else None
            held = next((h for h in self._holds if h.matches(method, params)), None)
        if failure is not None:
            return self._fail(method, failure)
        if held is not None:
            await _wait_for_release(held, self._lock)
        handler: Callable[..., Any] | None = getattr(self, f"_on_{method}", None)
        if handler is None:
            return self._refuse(method, 404, "Not Found")
        try:
            result = await handler(params, files)
        except _Refused as refused:
            return self._refuse(method, *refused.error)
        return JSONResponse({"ok": True, "result": result})

    async def _download(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return _error(401, "Unauthorized")
        with self._lock:
            queued = self._failures.get("file")
            failure = queued.pop(0) if queued else None
            found = [
                (data, media_type)
                for path, data, media_type in self._files.values()
                if path == request.path_params["path"]
            ]
        if failure is not None:
            return self._fail("file", failure)
        if not found:
            return self._refuse("file", 404, "Not Found")
        data, media_type = found[0]
        return Response(data, media_type=media_type)

    def _fail(self, method: str, failure: _Failure) -> Response:
        if failure.body is None:
            return self._refuse(
                method, failure.error_code, failure.description, failure.retry_after
            )
        with self._lock:
            self._errors.append(BotError(method, failure.error_code, failure.description))
        return Response(failure.body, status_code=failure.error_code, media_type="text/html")

    def _refuse(
        self, method: str, error_code: int, description: str, retry_after: int | None = None
    ) -> JSONResponse:
        with self._lock:
            self._errors.append(BotError(method, error_code, description, retry_after))
        return _error(error_code, description, retry_after)

    def _admit(self, chat_id: int) -> None:
        """Count a send to ``chat_id`` against the rate limits, or refuse it with ``429``."""
        if self._rates is None:
            return
        with self._lock:
            wait = self._rates.admit(chat_id, now=time.monotonic())
        if wait is not None:
            raise _Refused(429, f"Too Many Requests: retry after {wait}", wait)

    async def _on_getMe(self, _params: dict[str, Any], _files: _Files) -> Any:
        bot_id = int(self.token.split(":", 1)[0])
        return {"id": bot_id, "is_bot": True, "first_name": "Fake", "username": self.username}

    async def _on_getUpdates(self, params: dict[str, Any], _files: _Files) -> Any:
        offset = _int_param(params, "offset", 0)
        limit = min(100, max(1, _int_param(params, "limit", 100)))
        deadline = time.monotonic() + max(0, _int_param(params, "timeout", 0))
        with self._lock:
            if self.webhook is not None:
                raise _Refused(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            # A newer call ends the one still waiting, as Telegram does.
            poll = self._current_poll = next(self._polls)
            # Like Telegram, the call confirms (forgets) the updates below its offset once,
            # when it arrives; a long poll still waiting does not drop what is added later.
            self.confirmed_offset = max(self.confirmed_offset, offset)
            self._pending = [u for u in self._pending if _update_id(u) >= offset]
        while True:
            with self._lock:
                if self._current_poll != poll:
                    raise _Refused(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that "
                        "only one bot instance is running",
                    )
                ready = [u for u in self._pending if _update_id(u) >= offset][:limit]
            if ready or time.monotonic() >= deadline:
                return ready
            await asyncio.sleep(0.01)

    async def _on_sendMessage(self, params: dict[str, Any], _files: _Files) -> Any:
        chat_id = _chat_id(params)
        formatted, parse_mode = _formatted(params, "text")
        _check_text(formatted)
        self._admit(chat_id)
        reply = params.get("reply_parameters")
        reply_to = (
            cast("dict[str, Any]", reply).get("message_id") if isinstance(reply, dict) else None
        )
        message = SentMessage(
            chat_id,
            next(self._message_ids),
            text=formatted.text,
            markup=str(params["text"]),
            parse_mode=parse_mode,
            entities=formatted.entities,
            reply_to=reply_to if isinstance(reply_to, int) else None,
        )
        with self._lock:
            self._messages[chat_id, message.message_id] = message
        return _message_json(message)

    async def _on_editMessageText(self, params: dict[str, Any], _files: _Files) -> Any:
        chat_id = _chat_id(params)
        if "message_id" not in params:
            raise _bad_request("message identifier is not specified")
        message_id = _int_param(params, "message_id", 0)
        formatted, parse_mode = _formatted(params, "text")
        _check_text(formatted)
        with self._lock:
            message = self._messages.get((chat_id, message_id))
        if message is None:
            raise _bad_request("message to edit not found")
        if message.text is None:
            raise _bad_request("there is no text in the message to edit")
        if (message.text, message.entities) == (formatted.text, formatted.entities):
            raise _bad_request(
                "message is not modified: specified new message content and reply markup "
                "are exactly the same as a current content and reply markup of the message"
            )
        self._admit(chat_id)
        with self._lock:
            message.text = formatted.text
            message.markup = str(params["text"])
            message.entities = formatted.entities
            message.parse_mode = parse_mode
            message.edits += 1
        return _message_json(message)

    async def _on_sendPhoto(self, params: dict[str, Any], files: _Files) -> Any:
        return self._send_file(params, files, "photo")

    async def _on_sendDocument(self, params: dict[str, Any], files: _Files) -> Any:
        return self._send_file(params, files, "document")

    def _send_file(self, params: dict[str, Any], files: _Files, field_name: str) -> Any:
        chat_id = _chat_id(params)
        uploaded = files.get(field_name)
        sent: bytes | str | None = uploaded[1] if uploaded is not None else None
        if sent is None and isinstance(params.get(field_name), str) and params[field_name]:
            sent = str(params[field_name])
        if not sent:
            raise _bad_request(f"there is no {field_name} in the request")
        if isinstance(sent, bytes) and len(sent) > UPLOAD_LIMIT:
            raise _Refused(413, "Request Entity Too Large")
        caption: FormattedText | None = None
        parse_mode: str | None = None
        if "caption" in params:
            caption, parse_mode = _formatted(params, "caption")
            if _units(caption.text) > CAPTION_LIMIT:
                raise _bad_request("message caption is too long")
        self._admit(chat_id)
        message = SentMessage(
            chat_id,
            next(self._message_ids),
            caption=caption.text if caption is not None else None,
            parse_mode=parse_mode,
            file_name=uploaded[0] if uploaded is not None else None,
        )
        if field_name == "photo":
            message.photo = sent
        else:
            message.document = sent
        with self._lock:
            self._messages[chat_id, message.message_id] = message
        return _message_json(message)

    async def _on_sendChatAction(self, params: dict[str, Any], _files: _Files) -> Any:
        _chat_id(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        return True

    async def _on_setMyCommands(self, params: dict[str, Any], _files: _Files) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request('parameter "commands" is required')
        self.commands = cast("list[dict[str, str]]", commands)
        return True

    async def _on_setWebhook(self, params: dict[str, Any], _files: _Files) -> Any:
        with self._lock:
            self.webhook = dict(params) if params.get("url") else None
        return True

    async def _on_deleteWebhook(self, _params: dict[str, Any], _files: _Files) -> Any:
        with self._lock:
            self.webhook = None
        return True

    async def _on_getFile(self, params: dict[str, Any], _files: _Files) -> Any:
        file_id = params.get("file_id")
        with self._lock:
            stored = self._files.get(file_id) if isinstance(file_id, str) else None
        if stored is None:
            raise _bad_request("invalid file_id")
        path, data, _media_type = stored
        if len(data) > DOWNLOAD_LIMIT:
            raise _bad_request("file is too big")
        return {
            "file_id": file_id,
            "file_unique_id": file_id,
            "file_size": len(data),
            "file_path": path,
        }


_Files = dict[str, tuple[str, bytes]]
"""Uploaded files by field name: the file name and the data."""


async def _wait_for_release(held: Hold, lock: threading.Lock) -> None:
    with lock:
        held.waiting += 1
    try:
        # Released from the test's thread; a threading.Event cannot be awaited.
        while not held.released:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    finally:
        with lock:
            held.waiting -= 1


def _error(code: int, description: str, retry_after: int | None = None) -> JSONResponse:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return JSONResponse(body, status_code=code)


async def _params(request: Request) -> tuple[dict[str, Any], _Files]:
    """A call's parameters from JSON, a form or the query string, and uploaded files."""
    content_type = request.headers.get("content-type", "")
    params: dict[str, Any] = dict(request.query_params)
    files: _Files = {}
    if content_type.startswith("application/json"):
        try:
            body: object = decode_json(await request.body() or b"{}")
        except WireError:
            raise _bad_request("can't parse JSON object") from None
        if not isinstance(body, dict):
            raise _bad_request("can't parse JSON object")
        params.update(cast("dict[str, Any]", body))
    elif content_type.startswith("multipart/form-data"):
        fields, files = _multipart(await request.body(), content_type)
        params.update({name: _form_value(value) for name, value in fields.items()})
    return params, files


def _multipart(body: bytes, content_type: str) -> tuple[dict[str, str], _Files]:
    """The fields and files of a ``multipart/form-data`` body, in one pass."""
    boundary = content_type.partition("boundary=")[2].split(";")[0].strip().strip('"')
    if not boundary:
        raise _bad_request("wrong multipart body")
    fields: dict[str, str] = {}
    files: _Files = {}
    for part in body.split(b"--" + boundary.encode())[1:]:
        if part.startswith(b"--"):
            break
        head, _, data = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        data = data.removesuffix(b"\r\n")
        disposition = next(
            (
                line.partition(":")[2]
                for line in head.decode("utf-8", "replace").split("\r\n")
                if line.lower().startswith("content-disposition:")
            ),
            "",
        )
        attributes = dict(
            (key.strip(), value.strip().strip('"'))
            for key, _, value in (item.partition("=") for item in disposition.split(";"))
        )
        name = attributes.get("name")
        if not name:
            continue
        if "filename" in attributes:
            files[name] = (attributes["filename"], data)
        else:
            fields[name] = data.decode("utf-8", "replace")
    return fields, files


def _form_value(value: str) -> Any:
    """Form fields carry JSON for structured values, like the Bot API reads them."""
    if value[:1] in ("{", "["):
        try:
            return decode_json(value)
        except WireError:
            return value
    return value


def _int_param(params: Mapping[str, Any], name: str, default: int) -> int:
    value: object = params.get(name, default)
    if type(value) is int:
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit() and value.isascii():
        return int(value)
    raise _bad_request(f'field "{name}" must be of type Integer')


def _chat_id(params: Mapping[str, Any]) -> int:
    value: object = params.get("chat_id")
    if value is None or value == "":
        raise _bad_request("chat_id is empty")
    if type(value) is int:
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit() and value.isascii():
        return int(value)
    raise _bad_request("chat not found")


def _formatted(params: Mapping[str, Any], name: str) -> tuple[FormattedText, str | None]:
    """Parameter ``name`` parsed in the call's ``parse_mode``."""
    value: object = params.get(name)
    if not isinstance(value, str):
        value = "" if value is None else str(value)
    parse_mode: object = params.get("parse_mode")
    if parse_mode is not None and (
        not isinstance(parse_mode, str) or parse_mode.lower() not in _PARSE_MODES
    ):
        raise _bad_request(f"unsupported parse_mode {parse_mode}")
    try:
        return parse_formatted_text(value, parse_mode), parse_mode
    except EntityParseError as error:
        raise _bad_request(f"can't parse entities: {error}") from None


def _check_text(formatted: FormattedText) -> None:
    if not formatted.text:
        raise _bad_request("message text is empty")
    if _units(formatted.text) > MESSAGE_LIMIT:
        raise _bad_request("message is too long")


def _units(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _update_id(update: Mapping[str, Any]) -> int:
    value: object = update.get("update_id")
    return value if type(value) is int else 0


def _message_json(message: SentMessage) -> dict[str, Any]:
    body: dict[str, Any] = {
        "message_id": message.message_id,
        "date": int(time.time()),
        "chat": {
            "id": message.chat_id,
            "type": "private" if message.chat_id > 0 else "supergroup",
        },
    }
    if message.text is not None:
        body["text"] = message.text
        if message.entities:
            body["entities"] = message.entities
    if message.caption is not None:
        body["caption"] = message.caption
    return body

"""A small Bot API client: retries within limits, and the bot token kept out of every message."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import httpx
from agent_framework_hosting import WireError, decode_json

__all__ = ["BotApi", "TelegramApiError"]

logger = logging.getLogger("agent_framework.hosting.telegram")


class _TokenRedactor(logging.Filter):
    """Replaces live bot tokens with ``<bot id>:***`` in the records of the loggers it filters.

    httpx logs every request URL at INFO, and a Bot API URL carries the token. A logger's
    filters see each record logged on it before any handler does, whatever the app's logging
    configuration; tracebacks are formatted and redacted here too.
    """

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._uses: Counter[str] = Counter()
        self._shown: dict[str, str] = {}
        """A snapshot read without the lock: records arrive from any thread."""

    def hide(self, token: str) -> None:
        """Start redacting ``token`` (once per live client that uses it)."""
        with self._lock:
            self._uses[token] += 1
            self._shown = {t: f"{t.split(':', 1)[0]}:***" for t in self._uses}

    def reveal(self, token: str) -> None:
        """Stop redacting ``token`` once no live client uses it any more."""
        with self._lock:
            self._uses[token] -= 1
            if self._uses[token] <= 0:
                del self._uses[token]
            self._shown = {t: f"{t.split(':', 1)[0]}:***" for t in self._uses}

    def filter(self, record: logging.LogRecord) -> bool:
        shown = self._shown
        if not shown:
            return True
        message = record.getMessage()
        if any(token in message for token in shown):
            record.msg, record.args = _redacted(message, shown), None
        trace = record.exc_text
        if not trace and record.exc_info:
            trace = logging.Formatter().formatException(record.exc_info)
        if trace and any(token in trace for token in shown):
            # Formatters print exc_text when it is set instead of formatting exc_info.
            record.exc_text = _redacted(trace, shown)
        return True


def _redacted(text: str, shown: Mapping[str, str]) -> str:
    for token, replacement in shown.items():
        text = text.replace(token, replacement)
    return text


_REDACTOR = _TokenRedactor()
_REDACTED_LOGGERS = ("httpx", "agent_framework.hosting.telegram")


class TelegramApiError(Exception):
    """The Bot API answered ``ok: false`` (or could not be reached).

    The message never contains the bot token: it names the method and quotes the Bot API's
    ``description``.
    """

    def __init__(
        self,
        method: str,
        description: str,
        *,
        error_code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"Telegram {method} failed: {description}")
        self.method = method
        self.description = description
        self.error_code = error_code
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        """Rate limits, server errors and transport failures are worth another try."""
        return self.error_code is None or self.error_code == 429 or self.error_code >= 500


@dataclass(frozen=True, slots=True)
class InputFile:
    """A file uploaded with a call (multipart/form-data)."""

    field: str
    filename: str
    data: bytes
    media_type: str


class BotApi:
    """Calls ``{api_base}/bot<token>/<method>``.

    Rate limits (``429`` with ``parameters.retry_after``) are waited out, unless the wait
    is over ``max_retry_after``; server errors and transport failures are retried with
    backoff; other errors raise at once. At most ``max_attempts`` attempts are made per
    call. Answers are read up to ``max_answer_bytes`` and decoded within the core's
    depth limit: what a proxy or a broken server sends instead is an error, never a crash.
    """

    def __init__(
        self,
        token: str,
        *,
        api_base: str,
        max_attempts: int = 4,
        backoff: float = 0.5,
        max_retry_after: float = 60.0,
        max_answer_bytes: int = 16 * 1024 * 1024,
    ) -> None:
        self._base = f"{api_base.rstrip('/')}/bot{token}/"
        self._file_base = f"{api_base.rstrip('/')}/file/bot{token}/"
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._max_retry_after = max_retry_after
        self._max_answer_bytes = max_answer_bytes
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(30.0))
        self._token: str | None = token
        _REDACTOR.hide(token)
        for name in _REDACTED_LOGGERS:
            logging.getLogger(name).addFilter(_REDACTOR)  # a no-op once it is there

    async def aclose(self) -> None:
        """Close the connection pool."""
        try:
            await self._http.aclose()
        finally:
            if self._token is not None:
                _REDACTOR.reveal(self._token)
                self._token = None

    async def call(
        self,
        method: str,
        payload: Mapping[str, Any] | None = None,
        *,
        files: tuple[InputFile, ...] = (),
        read_timeout: float | None = None,
        retry: bool = True,
    ) -> Any:
        """Call ``method`` and return its ``result``; raise `TelegramApiError` on failure."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._call_once(method, payload, files, read_timeout)
            except TelegramApiError as error:
                if not retry or not error.retryable or attempt >= self._max_attempts:
                    raise
                wait = (
                    error.retry_after
                    if error.retry_after is not None
                    else self._backoff * 2 ** (attempt - 1)
                )
                if wait > self._max_retry_after:
                    raise
                logger.warning("%s; retrying in %.1fs", error, wait)
                await asyncio.sleep(wait)

    async def download(self, file_path: str, *, max_bytes: int) -> bytes | None:
        """Download a file that ``getFile`` returned; ``None`` when it is over ``max_bytes``."""
        try:
            async with self._http.stream("GET", self._file_base + file_path) as response:
                if response.status_code != 200:
                    raise TelegramApiError(
                        "file download",
                        f"HTTP {response.status_code}",
                        error_code=response.status_code,
                    )
                return await _read_within(response, max_bytes)
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            # httpx's message may carry the URL, and with it the token.
            raise TelegramApiError("file download", type(error).__name__) from None

    async def _call_once(
        self,
        method: str,
        payload: Mapping[str, Any] | None,
        files: tuple[InputFile, ...],
        read_timeout: float | None,
    ) -> Any:
        url = self._base + method
        request_timeout = (
            httpx.Timeout(read_timeout) if read_timeout is not None else httpx.USE_CLIENT_DEFAULT
        )
        if files:
            request = self._http.build_request(
                "POST",
                url,
                data={key: _form_value(value) for key, value in (payload or {}).items()},
                files={f.field: (f.filename, f.data, f.media_type) for f in files},
                timeout=request_timeout,
            )
        else:
            request = self._http.build_request(
                "POST", url, json=dict(payload or {}), timeout=request_timeout
            )
        try:
            response = await self._http.send(request, stream=True)
            try:
                raw = await _read_within(response, self._max_answer_bytes)
            finally:
                await response.aclose()
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            # httpx's message may carry the URL, and with it the token.
            raise TelegramApiError(method, f"transport error ({type(error).__name__})") from None
        status = response.status_code
        if raw is None:
            raise TelegramApiError(
                method,
                f"HTTP {status} with an answer over {self._max_answer_bytes} bytes",
                error_code=status,
            )
        try:
            # A proxy in front of the Bot API may answer with a page of HTML.
            body: object = decode_json(raw)
        except WireError:
            raise TelegramApiError(
                method, f"HTTP {status} without a JSON body", error_code=status
            ) from None
        if not isinstance(body, dict):
            raise TelegramApiError(
                method, f"HTTP {status} with an unexpected answer", error_code=status
            )
        answer = cast("dict[str, Any]", body)
        if answer.get("ok") is True:
            return answer.get("result")
        code: object = answer.get("error_code")
        description: object = answer.get("description")
        raise TelegramApiError(
            method,
            description if isinstance(description, str) and description else f"HTTP {status}",
            error_code=code if type(code) is int else status,
            retry_after=_retry_after(answer.get("parameters")),
        )


def _retry_after(parameters: object) -> float | None:
    """The seconds a ``429`` asks to wait (``parameters.retry_after``), when it says."""
    if not isinstance(parameters, dict):
        return None
    value: object = cast("dict[str, Any]", parameters).get("retry_after")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return max(0.0, float(value))


async def _read_within(response: httpx.Response, max_bytes: int) -> bytes | None:
    """The body of a streamed ``response``, or ``None`` as soon as it grows past ``max_bytes``."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _form_value(value: Any) -> str:
    """Multipart fields are strings; structured values go as JSON, like the Bot API expects."""
    if isinstance(value, str):
        return value
    return json.dumps(value)

"""Reading a request's JSON body, or a WebSocket message, within the channel's size limit."""

from __future__ import annotations

import json
from typing import Any, cast

from starlette.requests import Request

from ._errors import ResponsesError

__all__ = ["decode_json", "read_json_body"]


async def read_json_body(request: Request, limit: int, *, allow_empty: bool = False) -> Any:
    """The decoded JSON body (``{}`` for an empty one when ``allow_empty``).

    Raises:
        ResponsesError: As :func:`decode_json`.

    """
    raw = await _read_body(request, limit)
    if raw is None:
        raise _too_large(limit)
    if allow_empty and not raw.strip():
        return {}
    return decode_json(raw, limit)


def decode_json(raw: bytes | str, limit: int) -> Any:
    """The decoded JSON of a request body or a WebSocket message.

    Raises:
        ResponsesError: ``raw`` is larger than ``limit`` bytes (413
            ``request_too_large``), is not JSON, or holds a string that is not valid
            Unicode (a lone surrogate escape such as ``"\ud800"``, which nothing could
            store or send back) or ``NaN``/``Infinity``, which JSON does not have (400
            ``invalid_json``).

    """
    if isinstance(raw, str):
        raw = raw.encode()
    if len(raw) > limit:
        raise _too_large(limit)
    try:
        body = _decode(raw.decode(json.detect_encoding(raw), "surrogatepass"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ResponsesError("The request body is not valid JSON.", code="invalid_json") from None
    # Only a \u escape can make a lone surrogate; valid UTF-8 bytes never do.
    if b"\\u" in raw and not _is_unicode(body):
        raise ResponsesError(
            "The request body holds a string that is not valid Unicode (a lone surrogate).",
            code="invalid_json",
        )
    return body


def _refuse_constant(name: str) -> Any:
    """``NaN``, ``Infinity`` and ``-Infinity``: Python's decoder takes them, JSON has none."""
    raise ValueError(f"{name} is not JSON")


_decode = json.JSONDecoder(parse_constant=_refuse_constant).decode
"""One decoder for every body: ``json.loads`` with an option builds a new one per call."""


def _too_large(limit: int) -> ResponsesError:
    return ResponsesError(
        f"The request body is larger than {limit} bytes.", code="request_too_large", status=413
    )


def _is_unicode(value: Any) -> bool:
    """Whether every string in the decoded JSON ``value`` (keys too) can be encoded."""
    pending: list[Any] = [value]
    while pending:
        current = pending.pop()
        if isinstance(current, str):
            if not current.isascii() and not _encodes(current):
                return False
        elif isinstance(current, list):
            pending.extend(cast("list[Any]", current))
        elif isinstance(current, dict):
            entries = cast("dict[str, Any]", current)
            pending.extend(entries.keys())
            pending.extend(entries.values())
    return True


def _encodes(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The request body, or ``None`` as soon as it grows past ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)

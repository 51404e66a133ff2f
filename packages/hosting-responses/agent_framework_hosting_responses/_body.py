"""Reading a request's JSON body, or a WebSocket message, within the channel's limits."""

from __future__ import annotations

from typing import Any

from agent_framework_hosting import WireError, check_json_content_type, read_body
from agent_framework_hosting import decode_json as decode_wire_json
from starlette.requests import Request

from ._errors import ResponsesError

__all__ = ["decode_json", "read_json_body", "wire_error"]


async def read_json_body(request: Request, limit: int, *, allow_empty: bool = False) -> Any:
    """The decoded JSON body (``{}`` for an empty one when ``allow_empty``).

    Raises:
        ResponsesError: The body is declared as something other than JSON (415
            ``unsupported_media_type``), or as :func:`decode_json`.

    """
    try:
        check_json_content_type(request)
        raw = await read_body(request, limit)
    except WireError as error:
        raise wire_error(error) from None
    if allow_empty and not raw.strip():
        return {}
    return decode_json(raw, limit)


def decode_json(raw: bytes | str, limit: int) -> Any:
    """The decoded JSON of a request body or a WebSocket message.

    Raises:
        ResponsesError: ``raw`` is larger than ``limit`` bytes (413
            ``request_too_large``); is not JSON, holds ``NaN``, ``Infinity`` or a number
            too large for JSON, or a string that is not valid Unicode (400
            ``invalid_json``); or nests too deeply (400 ``nesting_too_deep``).

    """
    try:
        return decode_wire_json(raw, limit=limit)
    except WireError as error:
        raise wire_error(error) from None


_CODES = {
    "too_large": "request_too_large",
    "invalid_json": "invalid_json",
    "too_deep": "nesting_too_deep",
    "not_json": "unsupported_media_type",
}


def wire_error(error: WireError) -> ResponsesError:
    """A refused body as the channel's error."""
    return ResponsesError(error.message, code=_CODES[error.fault], status=error.status)

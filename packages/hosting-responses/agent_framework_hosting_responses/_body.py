"""Reading a request's JSON body within the channel's size limit."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from ._errors import ResponsesError

__all__ = ["read_json_body"]


async def read_json_body(request: Request, limit: int, *, allow_empty: bool = False) -> Any:
    """The decoded JSON body (``{}`` for an empty one when ``allow_empty``).

    Raises:
        ResponsesError: The body is larger than ``limit`` bytes (413
            ``request_too_large``) or is not JSON (400 ``invalid_json``).

    """
    raw = await _read_body(request, limit)
    if raw is None:
        raise ResponsesError(
            f"The request body is larger than {limit} bytes.",
            code="request_too_large",
            status=413,
        )
    if allow_empty and not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ResponsesError("The request body is not valid JSON.", code="invalid_json") from None


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

"""``GET /responses/{id}?stream=true``: a background stream's events, replayed and followed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from agent_framework_hosting import json_response
from starlette.responses import Response, StreamingResponse

from ._errors import ResponsesError
from ._event_log import EventLogs

__all__ = ["replay", "sse_response"]


def sse_response(frames: AsyncIterator[bytes]) -> StreamingResponse:
    """A ``text/event-stream`` response that proxies do not buffer."""
    return StreamingResponse(
        frames,
        media_type="text/event-stream",
        headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
    )


async def replay(
    logs: EventLogs,
    response: Mapping[str, Any],
    partition: str | None,
    query: Mapping[str, str],
    *,
    keepalive: float,
    on_silence: Callable[[], Awaitable[object]] | None = None,
) -> Response:
    """Answer a retrieval that names ``stream``: the stored object, or its event stream.

    ``stream=true`` replays the log from the start, or after ``starting_after``, then
    follows it until the terminal event. Only a response created with ``background`` and
    ``stream`` has a log; any other answers 400.
    """
    try:
        if not _flag(query, "stream"):
            return json_response(dict(response))
        after = _starting_after(query)
        if not await logs.exists(response["id"], partition):
            raise ResponsesError(
                "Only a response created with 'background' and 'stream' can be streamed "
                "again; retrieve this one without 'stream'.",
                param="stream",
                code="invalid_value",
            )
    except ResponsesError as error:
        return error.response()
    frames = logs.follow(
        response["id"], partition, after=after, keepalive=keepalive, on_silence=on_silence
    )
    return sse_response(frames)


def _flag(query: Mapping[str, str], name: str) -> bool:
    value = query.get(name, "false")
    if value not in ("true", "false"):
        raise ResponsesError(f"'{name}' must be true or false.", param=name, code="invalid_value")
    return value == "true"


def _starting_after(query: Mapping[str, str]) -> int:
    """The sequence number to resume after; ``-1`` replays from the first event."""
    value = query.get("starting_after")
    if value is None:
        return -1
    if not value.isascii() or not value.isdigit():
        raise ResponsesError(
            "'starting_after' must be a sequence number (an integer of at least 0).",
            param="starting_after",
            code="invalid_value",
        )
    return int(value)

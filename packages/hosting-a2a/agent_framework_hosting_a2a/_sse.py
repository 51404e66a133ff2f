"""Server-sent events: each A2A stream event a ``data:`` frame, silence broken by comments."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from agent_framework_hosting import encode_json
from starlette.responses import StreamingResponse

__all__ = ["sse_frame", "sse_response"]


def sse_frame(data: Any, *, event: str | None = None) -> bytes:
    """One event frame holding ``data`` as JSON (one line: JSON has no raw newlines)."""
    head = f"event: {event}\n" if event else ""
    return head.encode() + b"data: " + encode_json(data) + b"\n\n"


def sse_response(frames: AsyncIterator[bytes]) -> StreamingResponse:
    """A ``text/event-stream`` response of ``frames``, never cached or buffered."""
    return StreamingResponse(
        frames,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )

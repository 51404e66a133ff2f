"""A streamed reply as progress notifications, at a bounded rate."""

from __future__ import annotations

import time

from mcp.server.session import ServerSession

__all__ = ["ProgressReporter"]


class ProgressReporter:
    """Sends the text a run streams as ``notifications/progress`` of the call.

    Each notification's ``message`` is the text streamed since the previous one (joined,
    they are the reply as it was streamed) and its ``progress`` counts the streamed
    updates so far. At most one goes out per ``interval`` seconds; text that comes
    sooner waits for the next, and :meth:`flush` sends what is left before the result.
    """

    def __init__(self, session: ServerSession, *, interval: float) -> None:
        self._session = session
        self._interval = interval
        self._pending = ""
        self._updates = 0
        self._sent_at: float | None = None

    async def add(self, text: str) -> None:
        """Count one streamed update carrying ``text``; send if one is due."""
        self._updates += 1
        self._pending += text
        now = time.monotonic()
        if self._sent_at is None or now - self._sent_at >= self._interval:
            await self._send(now)

    async def flush(self) -> None:
        """Send the text not sent yet."""
        await self._send(time.monotonic())

    async def _send(self, now: float) -> None:
        if not self._pending:
            return
        text, self._pending = self._pending, ""
        self._sent_at = now
        await self._session.report_progress(self._updates, message=text)

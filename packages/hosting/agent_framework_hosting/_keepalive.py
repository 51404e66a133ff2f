"""Keep-alives for streams that go silent: the relay that marks silence, and its SSE comment.

A streaming channel relays a run's updates (or a log's entries) to a client; while the
target thinks, nothing flows, and proxies drop idle connections. :func:`with_keepalive`
relays a live stream and marks each silence with ``None``; ``RunLog.follow`` marks the
silences of a log the same way. The channel answers each mark with a frame its protocol
ignores, for server-sent events :data:`SSE_KEEPALIVE`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any, Final, TypeVar

__all__ = ["SSE_KEEPALIVE", "with_keepalive"]

T = TypeVar("T")

SSE_KEEPALIVE: Final = b": keep-alive\n\n"
"""An SSE comment frame: clients ignore it, proxies see that the connection is alive."""


async def with_keepalive(items: AsyncIterator[T], interval: float) -> AsyncGenerator[T | None]:
    """Relay ``items``, and ``None`` whenever ``interval`` seconds pass without one.

    One task consumes the whole of ``items``, so a run's context (its session lock, its
    context variables) stays in a single task; closing the relay cancels that task. An
    error ``items`` raises is raised by the relay, after the items before it. Silence is
    watched by one timer per ``interval``, not one per item.

    Args:
        items: The stream to relay (a ``HostedRunStream``, or any async iterator).
        interval: Seconds of silence after which a ``None`` is relayed.

    """
    loop = asyncio.get_running_loop()
    ready: deque[tuple[bool, Any]] = deque()
    wakeup: asyncio.Future[None] | None = None
    last = loop.time()

    def put(entry: tuple[bool, Any]) -> None:
        ready.append(entry)
        if wakeup is not None and not wakeup.done():
            wakeup.set_result(None)

    async def pump() -> None:
        nonlocal last
        try:
            async for item in items:
                last = loop.time()
                put((True, item))
        except Exception as exc:
            put((False, exc))
        else:
            put((False, None))

    def watch() -> None:
        nonlocal last, timer
        silent = loop.time() - last
        if silent >= interval:
            put((True, None))
            last, silent = loop.time(), 0.0
        timer = loop.call_later(interval - silent, watch)

    timer = loop.call_later(interval, watch)
    task = asyncio.create_task(pump())
    try:
        while True:
            if not ready:
                wakeup = loop.create_future()
                await wakeup
            is_item, value = ready.popleft()
            if is_item:
                yield value
            elif value is None:
                return
            else:
                raise value
    finally:
        timer.cancel()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

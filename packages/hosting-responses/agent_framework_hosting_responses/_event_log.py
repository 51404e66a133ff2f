"""The event logs of background streams: the Responses framing over the host's run logs.

A background response created with ``stream: true`` appends every event it emits,
framed, to its run log (``agent_framework_hosting.RunLog``), and
``GET /responses/{id}?stream=true`` replays the log and then follows it until the
terminal event, from any process sharing the state store. A foreign partition's log
reads as missing.

A log is bounded: once it holds ``max_events`` events, further deltas of one part are
merged and appended as one delta right before the next other event, so the log grows
with the number of output items, not with the length of the text. A log is deleted
with its response; a run still writing it stops writing (see ``RunLogWriter``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from agent_framework_hosting import SSE_KEEPALIVE, LogBound, RunLog, RunLogWriter, StateStore

from ._render import DONE, SSEWriter

__all__ = ["EventLogWriter", "EventLogs", "is_terminal"]

_TERMINAL = frozenset({"response.completed", "response.failed", "response.incomplete"})
_TERMINAL_FRAMES = tuple(f"event: {kind}\n" for kind in _TERMINAL)
_MERGED = frozenset({"delta", "logprobs"})
"""A delta event's fields that grow as deltas merge; the others name its part."""


def is_terminal(frame: str) -> bool:
    """Whether ``frame`` is a response's last event."""
    return frame.startswith(_TERMINAL_FRAMES)


class EventLogs:
    """The channel's event logs: written by background streams, followed by readers."""

    def __init__(self, store: StateStore, *, max_events: int) -> None:
        if max_events < 1:
            raise ValueError("max_events must be at least 1")
        self._log = RunLog(store, "responses")
        self._max_events = max_events

    async def create(self, response_id: str, partition: str | None) -> EventLogWriter:
        """Start the empty log of ``response_id``, owned by ``partition``."""
        writer = await self._log.open(response_id, partition)
        return EventLogWriter(writer, max_events=self._max_events)

    async def exists(self, response_id: str, partition: str | None) -> bool:
        """Whether ``response_id`` has a log in ``partition``."""
        return await self._log.exists(response_id, partition)

    async def delete(self, response_id: str, partition: str | None) -> None:
        """Remove the log of ``response_id`` if it exists in ``partition``."""
        await self._log.delete(response_id, partition)

    async def settle(self, response_id: str, events: list[tuple[str, Mapping[str, Any]]]) -> None:
        """Append ``events`` after what the log holds, and complete it.

        For a run whose owner is gone: its log ends with what the settling process adds.
        """
        log = await self._log.writer(response_id)
        entries = await self._log.entries(response_id)
        if log is None or (entries and is_terminal(entries[-1])):
            return
        framing = SSEWriter(first=len(entries))
        for kind, fields in events:
            await log.append(framing.event(kind, fields).decode())
        await log.close()

    async def follow(
        self,
        response_id: str,
        partition: str | None,
        *,
        after: int,
        keepalive: float,
        on_silence: Callable[[], Awaitable[object]] | None = None,
    ) -> AsyncIterator[bytes]:
        """The framed events after sequence number ``after``, live until the terminal one.

        A keep-alive comment goes out whenever ``keepalive`` seconds pass without an
        event; ``[DONE]`` ends the stream, also when the log is deleted.
        """
        entries = self._log.follow(
            response_id, partition, after=after, keepalive=keepalive, on_silence=on_silence
        )
        async for frame in entries:
            if frame is None:
                yield SSE_KEEPALIVE
                continue
            yield frame.encode()
            if is_terminal(frame):
                break
        yield DONE


class EventLogWriter(SSEWriter):
    """Frames a background stream's events for its response's log.

    ``event`` frames an event and holds it; ``flush`` appends what is held. Sequence
    numbers are positions in the log. Past the log's bound, deltas of one part are held
    and merged (``agent_framework_hosting.LogBound``), and framed as one delta before the
    next other event.
    """

    __slots__ = ("_bound", "_pending", "_writer")

    def __init__(self, writer: RunLogWriter, *, max_events: int) -> None:
        super().__init__()
        self._writer = writer
        self._bound = LogBound[tuple[str, Mapping[str, Any]]](max_events, _merged)
        self._pending: list[str] = []

    def event(self, kind: str, fields: Mapping[str, Any]) -> bytes:
        """Frame the event for the log and return its frame (empty while a delta is held)."""
        released = self._bound.add((kind, fields), delta=kind.endswith(".delta"))
        return b"".join(self._frame(*event) for event in released)

    async def flush(self) -> None:
        """Append the framed events to the log; complete it after the terminal one."""
        pending, self._pending = self._pending, []
        for frame in pending:
            if await self._writer.append(frame) is None:
                return  # the log was deleted
            if is_terminal(frame):
                await self._writer.close()

    def _frame(self, kind: str, fields: Mapping[str, Any]) -> bytes:
        frame = super().event(kind, fields)
        self._pending.append(frame.decode())
        return frame


def _merged(
    held: tuple[str, Mapping[str, Any]], delta: tuple[str, Mapping[str, Any]]
) -> tuple[str, Mapping[str, Any]] | None:
    """``held`` and then ``delta`` as one delta, when both are of one part."""
    (held_kind, held_fields), (kind, fields) = held, delta
    names = (held_fields.keys() | fields.keys()) - _MERGED
    if held_kind != kind or any(held_fields.get(name) != fields.get(name) for name in names):
        return None
    merged = dict(held_fields)
    for name in _MERGED & fields.keys():
        merged[name] = merged[name] + fields[name]
    return kind, merged

"""Append-only logs of background streams' events, in the host's state store.

A background response created with ``stream: true`` appends every event it emits to its
log, and ``GET /responses/{id}?stream=true`` replays the log and then follows it until
the terminal event. A log is stored as segments of :data:`SEGMENT_EVENTS` framed events,
so an append rewrites one small entry, plus a head entry: the owner's partition, the
number of segments, and whether the terminal event is in. A foreign partition's log
reads as missing.

A log is bounded: once it holds ``max_events`` events, further deltas of one part are
merged and appended as one delta right before the next other event, so the log grows
with the number of output items, not with the length of the text.

A log is deleted with its response. A run that goes on writing it elsewhere (in another
process sharing the store) finds its head gone at the next segment or the terminal
event, removes what it wrote since and writes nothing more.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from agent_framework_hosting import StateStore

from ._render import DONE, KEEPALIVE, SSEWriter

__all__ = ["SEGMENT_EVENTS", "EventLogWriter", "EventLogs"]

SEGMENT_EVENTS = 64
"""Framed events per stored segment."""

_PREFIX = "responses:events:"
_TERMINAL = frozenset({"response.completed", "response.failed", "response.incomplete"})
_MERGED = frozenset({"delta", "logprobs"})
"""A delta event's fields that grow as deltas merge; the others name its part."""


@dataclass(frozen=True, slots=True)
class _Head:
    """A log's head entry."""

    partition: str | None
    segments: int
    done: bool

    def save(self, store: StateStore, response_id: str) -> None:
        fields = {"partition": self.partition, "segments": self.segments, "done": self.done}
        store.set(_PREFIX + response_id, fields)

    @staticmethod
    def load(store: StateStore, response_id: str, partition: str | None) -> _Head | None:
        raw = store.get(_PREFIX + response_id)
        if not isinstance(raw, Mapping):
            return None
        fields = cast("Mapping[str, Any]", raw)
        if fields.get("partition") != partition:
            return None
        return _Head(fields["partition"], fields["segments"], fields["done"])


def _segment_key(response_id: str, segment: int) -> str:
    return f"{_PREFIX}{response_id}:{segment}"


class EventLogs:
    """The channel's event logs: written by background streams, followed by readers.

    A reader in the process that runs the stream wakes as soon as an event is appended;
    a log written by another process sharing the store is re-read once per keep-alive
    interval.
    """

    def __init__(self, store: StateStore, *, max_events: int) -> None:
        if max_events < 1:
            raise ValueError("max_events must be at least 1")
        self._store = store
        self._max_events = max_events
        self._waiters: dict[str, set[asyncio.Future[None]]] = {}

    def create(self, response_id: str, partition: str | None) -> EventLogWriter:
        """Start the empty log of ``response_id``, owned by ``partition``."""
        _Head(partition, 0, done=False).save(self._store, response_id)
        return EventLogWriter(
            self._store,
            response_id,
            partition,
            max_events=self._max_events,
            appended=lambda: self._notify(response_id),
        )

    def exists(self, response_id: str, partition: str | None) -> bool:
        """Whether ``response_id`` has a log in ``partition``."""
        return _Head.load(self._store, response_id, partition) is not None

    def delete(self, response_id: str, partition: str | None) -> None:
        """Remove the log of ``response_id`` if it exists in ``partition``."""
        head = _Head.load(self._store, response_id, partition)
        if head is None:
            return
        self._store.delete(_PREFIX + response_id)
        for segment in range(head.segments):
            self._store.delete(_segment_key(response_id, segment))
        self._notify(response_id)

    async def follow(
        self, response_id: str, partition: str | None, *, after: int, keepalive: float
    ) -> AsyncIterator[bytes]:
        """The framed events after sequence number ``after``, live until the terminal one.

        A keep-alive comment goes out whenever ``keepalive`` seconds pass without an
        event; ``[DONE]`` ends the stream, also when the log is deleted or evicted.
        """
        position = after + 1
        while True:
            # Registered before reading, so an append in between is not missed.
            appended = self._waiter(response_id)
            try:
                read = self._read(response_id, partition, position)
                if read is None:
                    break
                frames, done = read
                for frame in frames:
                    yield frame.encode()
                position += len(frames)
                if done:
                    break
                woken, _ = await asyncio.wait({appended}, timeout=keepalive)
                if not woken:
                    yield KEEPALIVE
            finally:
                self._forget(response_id, appended)
        yield DONE

    def _read(
        self, response_id: str, partition: str | None, position: int
    ) -> tuple[list[str], bool] | None:
        """The frames from ``position`` on, and whether the log is complete.

        ``None`` when the log is missing; a segment evicted from a bounded store
        completes the log where it is.
        """
        head = _Head.load(self._store, response_id, partition)
        if head is None:
            return None
        frames: list[str] = []
        first = position // SEGMENT_EVENTS
        for segment in range(first, head.segments):
            stored = self._store.get(_segment_key(response_id, segment))
            if not isinstance(stored, list):
                return frames, True
            events = cast("list[str]", stored)
            frames.extend(events[position % SEGMENT_EVENTS :] if segment == first else events)
        return frames, head.done

    def _waiter(self, response_id: str) -> asyncio.Future[None]:
        """A future the log's next append (or its deletion) resolves."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(response_id, set()).add(future)
        return future

    def _forget(self, response_id: str, future: asyncio.Future[None]) -> None:
        waiters = self._waiters.get(response_id)
        if waiters is not None:
            waiters.discard(future)
            if not waiters:
                del self._waiters[response_id]

    def _notify(self, response_id: str) -> None:
        for future in self._waiters.pop(response_id, set()):
            if not future.done():
                future.set_result(None)


class EventLogWriter(SSEWriter):
    """Frames a background stream's events and appends each one to the response's log.

    Sequence numbers are positions in the log. Past the log's bound, deltas of one part
    are held and merged, and appended as one delta before the next other event.
    """

    __slots__ = (
        "_appended",
        "_deleted",
        "_held",
        "_max_events",
        "_partition",
        "_response_id",
        "_segment",
        "_store",
    )

    def __init__(
        self,
        store: StateStore,
        response_id: str,
        partition: str | None,
        *,
        max_events: int,
        appended: Callable[[], None],
    ) -> None:
        super().__init__()
        self._response_id = response_id
        self._store = store
        self._partition = partition
        self._max_events = max_events
        self._appended = appended
        self._segment: list[str] = []
        self._held: tuple[str, dict[str, Any]] | None = None
        self._deleted = False

    def event(self, kind: str, fields: Mapping[str, Any]) -> bytes:
        """Append the event to the log and return its frame (empty while a delta is held)."""
        if kind.endswith(".delta") and self._next >= self._max_events:
            if self._held is not None and _same_part(self._held, kind, fields):
                held = self._held[1]
                for name in _MERGED & fields.keys():
                    held[name] = held[name] + fields[name]
                return b""
            flushed = self._flush()
            self._held = (kind, dict(fields))
            return flushed
        return self._flush() + self._append(kind, fields)

    def _flush(self) -> bytes:
        if self._held is None:
            return b""
        kind, fields = self._held
        self._held = None
        return self._append(kind, fields)

    def _append(self, kind: str, fields: Mapping[str, Any]) -> bytes:
        if self._deleted:
            return b""
        segment, offset = divmod(self._next, SEGMENT_EVENTS)
        terminal = kind in _TERMINAL
        if self._next and (offset == 0 or terminal) and self._was_deleted():
            return b""
        frame = super().event(kind, fields)
        if offset == 0:
            self._segment = []
        self._segment.append(frame.decode())
        # The segment first, then the head: a reader never sees a head ahead of its events.
        self._store.set(_segment_key(self._response_id, segment), self._segment)
        if offset == 0 or terminal:
            _Head(self._partition, segment + 1, done=terminal).save(self._store, self._response_id)
        self._appended()
        return frame

    def _was_deleted(self) -> bool:
        """Whether the log was deleted; then the segment written since goes too."""
        if _Head.load(self._store, self._response_id, self._partition) is not None:
            return False
        self._deleted = True
        self._store.delete(_segment_key(self._response_id, (self._next - 1) // SEGMENT_EVENTS))
        return True


def _same_part(held: tuple[str, Mapping[str, Any]], kind: str, fields: Mapping[str, Any]) -> bool:
    held_kind, held_fields = held
    names = (held_fields.keys() | fields.keys()) - _MERGED
    return held_kind == kind and all(held_fields.get(name) == fields.get(name) for name in names)

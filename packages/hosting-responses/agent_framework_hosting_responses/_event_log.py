"""Append-only logs of background streams' events, in the host's state store.

A background response created with ``stream: true`` appends every event it emits, framed,
to its log (a log of the store under ``responses:events:<id>``), and
``GET /responses/{id}?stream=true`` replays the log and then follows it until the
terminal event. The owner's partition is kept beside it (``responses:eventlog:<id>``);
a foreign partition's log reads as missing. A reader anywhere (in this process or
another sharing the store) wakes as soon as an event is appended.

A log is bounded: once it holds ``max_events`` events, further deltas of one part are
merged and appended as one delta right before the next other event, so the log grows
with the number of output items, not with the length of the text.

A log is deleted with its response. A run that goes on writing it (in another process)
finds it gone within :data:`CHECK_EVERY` events or at its terminal event, removes what it
appended since and writes nothing more.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, cast

from agent_framework_hosting import StateStore

from ._render import DONE, KEEPALIVE, SSEWriter

__all__ = ["CHECK_EVERY", "EventLogWriter", "EventLogs"]

CHECK_EVERY = 64
"""Events a writer appends between two checks that its log still exists."""

_LOG = "responses:events:"
_OWNER = "responses:eventlog:"
_TERMINAL = frozenset({"response.completed", "response.failed", "response.incomplete"})
_TERMINAL_FRAMES = tuple(f"event: {kind}\n" for kind in _TERMINAL)
_MERGED = frozenset({"delta", "logprobs"})
"""A delta event's fields that grow as deltas merge; the others name its part."""


class EventLogs:
    """The channel's event logs: written by background streams, followed by readers."""

    def __init__(self, store: StateStore, *, max_events: int) -> None:
        if max_events < 1:
            raise ValueError("max_events must be at least 1")
        self._store = store
        self._max_events = max_events

    async def create(self, response_id: str, partition: str | None) -> EventLogWriter:
        """Start the empty log of ``response_id``, owned by ``partition``."""
        await self._store.set(_OWNER + response_id, {"partition": partition, "done": False})
        return EventLogWriter(self._store, response_id, partition, max_events=self._max_events)

    async def exists(self, response_id: str, partition: str | None) -> bool:
        """Whether ``response_id`` has a log in ``partition``."""
        return await self._owner(response_id, partition) is not None

    async def _owner(self, response_id: str, partition: str | None) -> Mapping[str, Any] | None:
        """The log's owner entry (its partition, whether it is complete), in ``partition``."""
        owner = await self._store.get(_OWNER + response_id)
        if not isinstance(owner, Mapping):
            return None
        fields = cast("Mapping[str, Any]", owner)
        return fields if fields.get("partition") == partition else None

    async def delete(self, response_id: str, partition: str | None) -> None:
        """Remove the log of ``response_id`` if it exists in ``partition``."""
        if await self.exists(response_id, partition):
            await self._store.delete(_OWNER + response_id, _LOG + response_id)

    async def follow(
        self, response_id: str, partition: str | None, *, after: int, keepalive: float
    ) -> AsyncIterator[bytes]:
        """The framed events after sequence number ``after``, live until the terminal one.

        A keep-alive comment goes out whenever ``keepalive`` seconds pass without an
        event; ``[DONE]`` ends the stream, also when the log is deleted or expires.
        """
        position = after
        log = _LOG + response_id
        while True:
            frames = await self._store.read_log(log, after=position, wait=keepalive)
            if not frames:
                owner = await self._owner(response_id, partition)
                if owner is None:
                    break
                if not owner.get("done"):
                    yield KEEPALIVE
                    continue
                # Complete: whatever was appended before it was marked so, then the end.
                frames = await self._store.read_log(log, after=position)
                if not frames:
                    break
            for frame in frames:
                yield frame.encode()
            position += len(frames)
            if frames[-1].startswith(_TERMINAL_FRAMES):
                break
        yield DONE


class EventLogWriter(SSEWriter):
    """Frames a background stream's events for its response's log.

    ``event`` frames an event and holds it; ``flush`` appends what is held. Sequence
    numbers are positions in the log. Past the log's bound, deltas of one part are held
    and merged, and framed as one delta before the next other event.
    """

    __slots__ = (
        "_deleted",
        "_held",
        "_max_events",
        "_partition",
        "_pending",
        "_response_id",
        "_store",
    )

    def __init__(
        self, store: StateStore, response_id: str, partition: str | None, *, max_events: int
    ) -> None:
        super().__init__()
        self._store = store
        self._response_id = response_id
        self._partition = partition
        self._max_events = max_events
        self._pending: list[str] = []
        self._held: tuple[str, dict[str, Any]] | None = None
        self._deleted = False

    def event(self, kind: str, fields: Mapping[str, Any]) -> bytes:
        """Frame the event for the log and return its frame (empty while a delta is held)."""
        if kind.endswith(".delta") and self._next >= self._max_events:
            if self._held is not None and _same_part(self._held, kind, fields):
                held = self._held[1]
                for name in _MERGED & fields.keys():
                    held[name] = held[name] + fields[name]
                return b""
            flushed = self._release_held()
            self._held = (kind, dict(fields))
            return flushed
        return self._release_held() + self._frame(kind, fields)

    async def flush(self) -> None:
        """Append the framed events to the log (nothing, once the log was deleted)."""
        pending, self._pending = self._pending, []
        for frame in pending:
            if self._deleted:
                return
            index = await self._store.append(_LOG + self._response_id, frame)
            terminal = frame.startswith(_TERMINAL_FRAMES)
            if (terminal or (index > 0 and index % CHECK_EVERY == 0)) and not await self._exists():
                self._deleted = True
                await self._store.delete(_LOG + self._response_id)
            elif terminal:
                owner = {"partition": self._partition, "done": True}
                await self._store.set(_OWNER + self._response_id, owner)

    def _release_held(self) -> bytes:
        if self._held is None:
            return b""
        kind, fields = self._held
        self._held = None
        return self._frame(kind, fields)

    def _frame(self, kind: str, fields: Mapping[str, Any]) -> bytes:
        frame = super().event(kind, fields)
        self._pending.append(frame.decode())
        return frame

    async def _exists(self) -> bool:
        return await self._store.get(_OWNER + self._response_id) is not None


def _same_part(held: tuple[str, Mapping[str, Any]], kind: str, fields: Mapping[str, Any]) -> bool:
    held_kind, held_fields = held
    names = (held_fields.keys() | fields.keys()) - _MERGED
    return held_kind == kind and all(held_fields.get(name) == fields.get(name) for name in names)

"""Bounds on run logs: past a cap, a run's deltas are merged instead of logged one by one.

A run that streams a long text would grow its log by one entry per delta. Once a log
holds ``max_entries`` entries, each delta is held instead, and the deltas that follow it
of the same part (the channel's ``merge`` says which) are merged into it; what is held
is logged as one delta right before the next entry that is not a delta, or as the log
closes. A log then grows with the number of parts and events, not with the length of the
text, and a reader replaying it still sees every character in order and every other
event (the run's end above all) as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from ._runs import RunLogWriter

__all__ = ["BoundedLogWriter", "LogBound"]

E = TypeVar("E")


class LogBound(Generic[E]):
    """Which of a run's events to log now, once its log holds ``max_entries`` entries.

    Args:
        max_entries: Entries the log holds before its deltas are merged (at least 1).
        merge: The delta that logs ``held`` followed by ``delta``, or ``None`` when they
            are of different parts (``held`` is logged first then).
        first: Entries the log already holds.

    Raises:
        ValueError: ``max_entries`` is less than 1.

    """

    __slots__ = ("_count", "_held", "_max_entries", "_merge")

    def __init__(
        self, max_entries: int, merge: Callable[[E, E], E | None], *, first: int = 0
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max_entries = max_entries
        self._merge = merge
        self._count = first
        self._held: E | None = None

    def add(self, event: E, *, delta: bool) -> list[E]:
        """The events to log now that ``event`` came, in order (none while a delta is held)."""
        if delta and self._count >= self._max_entries:
            if self._held is not None:
                merged = self._merge(self._held, event)
                if merged is not None:
                    self._held = merged
                    return []
            released = self.release()
            self._held = event
            return released
        released = self.release()
        released.append(event)
        self._count += 1
        return released

    def release(self) -> list[E]:
        """The held delta, if any, to log now (before the log closes)."""
        if self._held is None:
            return []
        held, self._held = self._held, None
        self._count += 1
        return [held]


class BoundedLogWriter(Generic[E]):
    """Writes a run's events to its log, encoded, within a :class:`LogBound`.

    Args:
        writer: The run's log.
        max_entries: See :class:`LogBound`.
        encode: An event as the log's entry.
        is_delta: Whether an event is a delta that may be merged past the cap.
        merge: See :class:`LogBound`.

    """

    def __init__(
        self,
        writer: RunLogWriter,
        *,
        max_entries: int,
        encode: Callable[[E], str],
        is_delta: Callable[[E], bool],
        merge: Callable[[E, E], E | None],
    ) -> None:
        self._writer = writer
        self._encode = encode
        self._is_delta = is_delta
        self._bound = LogBound(max_entries, merge)

    @property
    def deleted(self) -> bool:
        """Whether the log was found deleted (nothing is written any more)."""
        return self._writer.deleted

    async def append(self, event: E) -> None:
        """Log ``event`` (with the delta held before it), or hold it when it is a delta."""
        for released in self._bound.add(event, delta=self._is_delta(event)):
            await self._writer.append(self._encode(released))

    async def close(self) -> None:
        """Log the held delta, if any, and mark the log complete."""
        for released in self._bound.release():
            await self._writer.append(self._encode(released))
        await self._writer.close()

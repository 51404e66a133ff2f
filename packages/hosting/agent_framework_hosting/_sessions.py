"""Per-isolation-key conversation state: one live object per key, bounded, with snapshots."""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from collections.abc import AsyncGenerator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ._state import StateStore

__all__ = ["ConversationSlots", "KeyLocks"]

T = TypeVar("T")

_ALIAS_PREFIX = "alias:"
_SNAPSHOT_PREFIX = "snapshot:"


class KeyLocks:
    """One lock per key, created on demand and dropped when nobody holds or awaits it."""

    def __init__(self) -> None:
        self._locks: dict[str, _KeyLock] = {}

    async def acquire(self, key: str) -> None:
        """Wait for the lock of ``key``; a cancelled wait leaves no trace of its caller."""
        entry = self._locks.get(key)
        if entry is None:
            entry = self._locks[key] = _KeyLock()
        entry.users += 1
        try:
            await entry.lock.acquire()
        except BaseException:
            self._leave(key, entry)
            raise

    def release(self, key: str) -> None:
        """Release the lock of ``key``, which the caller holds."""
        entry = self._locks[key]
        entry.lock.release()
        self._leave(key, entry)

    def _leave(self, key: str, entry: _KeyLock) -> None:
        entry.users -= 1
        if entry.users == 0:
            del self._locks[key]

    def __len__(self) -> int:
        return len(self._locks)


class _KeyLock:
    """A key's lock, and how many callers hold or await it."""

    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


@dataclass(frozen=True, slots=True)
class SlotCodec(Generic[T]):
    """How one kind of per-key state is created, snapshotted and restored."""

    create: Callable[[str], T]
    snapshot: Callable[[T], Any] | None = None
    restore: Callable[[Any], T] | None = None


class ConversationSlots(Generic[T]):
    """Resolves the state of an isolation key and serializes its users.

    Live objects sit in an LRU of ``max_live`` entries; an evicted one moves to ``store``
    and comes back on the key's next turn. A durable store holds serialized snapshots,
    written through on every turn, so a killed process resumes where it stopped; the
    in-process store keeps evicted objects as they are (bounded by its own size).
    ``reset(key)`` points the key at a new generation: the next lease starts from
    scratch, and the old generation's state is dropped.
    """

    def __init__(self, codec: SlotCodec[T], store: StateStore, *, max_live: int) -> None:
        if max_live < 1:
            raise ValueError("max_live_sessions must be at least 1")
        self._codec = codec
        self._store = store
        self._max_live = max_live
        self._live: OrderedDict[str, T] = OrderedDict()
        self._leased: set[str] = set()
        self._locks = KeyLocks()

    def slot_key(self, isolation_key: str) -> str:
        """The key of the current generation of ``isolation_key``'s state."""
        generation = self._store.get(_ALIAS_PREFIX + isolation_key)
        return isolation_key if generation is None else f"{isolation_key}#{generation}"

    @asynccontextmanager
    async def lease(self, isolation_key: str) -> AsyncGenerator[T]:
        """Yield the key's state, exclusively: concurrent leases of one key queue up."""
        await self._locks.acquire(isolation_key)
        try:
            slot_key = self.slot_key(isolation_key)
            value = self._checkout(slot_key)
            self._leased.add(slot_key)
            try:
                yield value
            finally:
                self._leased.discard(slot_key)
                # A reset during the run moved the key on: this generation is garbage.
                if self.slot_key(isolation_key) == slot_key:
                    self._checkin(slot_key, value)
        finally:
            self._locks.release(isolation_key)

    def reset(self, isolation_key: str) -> None:
        """Start a new generation for ``isolation_key`` and drop the current one."""
        old = self.slot_key(isolation_key)
        self._store.set(_ALIAS_PREFIX + isolation_key, uuid.uuid4().hex)
        self._live.pop(old, None)
        self._store.delete(_SNAPSHOT_PREFIX + old)

    @property
    def live_count(self) -> int:
        """How many objects are live in memory."""
        return len(self._live)

    def _checkout(self, slot_key: str) -> T:
        value = self._live.get(slot_key)
        if value is not None:
            self._live.move_to_end(slot_key)
            return value
        stored = self._store.get(_SNAPSHOT_PREFIX + slot_key)
        if stored is None:
            return self._codec.create(slot_key)
        if self._store.durable and self._codec.restore is not None:
            return self._codec.restore(stored)
        self._store.delete(_SNAPSHOT_PREFIX + slot_key)
        return stored

    def _checkin(self, slot_key: str, value: T) -> None:
        self._live[slot_key] = value
        self._live.move_to_end(slot_key)
        if self._store.durable:
            self._write_snapshot(slot_key, value)
        self._evict()

    def _evict(self) -> None:
        """Move the least recently used objects out of memory, skipping leased ones."""
        excess = len(self._live) - self._max_live
        skipped: list[tuple[str, T]] = []
        while excess > 0 and self._live:
            slot_key, value = self._live.popitem(last=False)
            if slot_key in self._leased:
                skipped.append((slot_key, value))
                continue
            excess -= 1
            if not self._store.durable:
                # An in-process store keeps the object itself: serializing it would only
                # cost time. Durable stores already hold this turn's snapshot.
                self._store.set(_SNAPSHOT_PREFIX + slot_key, value)
        for slot_key, value in reversed(skipped):
            self._live[slot_key] = value
            self._live.move_to_end(slot_key, last=False)

    def _write_snapshot(self, slot_key: str, value: T) -> None:
        if self._codec.snapshot is not None:
            self._store.set(_SNAPSHOT_PREFIX + slot_key, self._codec.snapshot(value))

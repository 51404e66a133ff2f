"""Per-isolation-key conversation state: one writer at a time, live copies checked, snapshots.

A conversation's stored state is ``{"generation": n, "snapshot": ...}`` under
``session:<isolation key>``, versioned by the store. A turn leases the conversation
(``conversation:<isolation key>``), so turns of one conversation run one after another,
in this process or any other sharing the store. A live object kept in memory is used
only while the stored version is the one it was checked in at; otherwise the stored
snapshot is restored. ``reset`` moves the conversation to its next generation: the
next turn starts from scratch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import AsyncGenerator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from ._state import Lease, StateStore, update_state
from ._telemetry import lease_wait

__all__ = ["ConversationBusy", "ConversationSlots", "SlotCodec", "slot_key"]

logger = logging.getLogger("agent_framework.hosting")

T = TypeVar("T")

_STATE = "session:"
_LEASE = "conversation:"
_PARKED = "parked:"
_IN_PROCESS_TTL = 365 * 24 * 3600.0


class ConversationBusy(RuntimeError):
    """Another turn of the conversation held it for longer than a turn may wait."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            f"Another turn of this conversation is still running after {seconds:g} seconds; "
            "retry when it has finished."
        )
        self.seconds = seconds


def slot_key(isolation_key: str, generation: int) -> str:
    """The id of a conversation's state in ``generation``: ``key``, ``key#1``, ``key#2``, ….

    It is the ``session_id`` of the agent session a conversation's turns run in, so
    history kept by the session id follows the conversation across restarts and
    processes, and a reset starts a new history.
    """
    return isolation_key if generation == 0 else f"{isolation_key}#{generation}"


@dataclass(frozen=True, slots=True)
class SlotCodec(Generic[T]):
    """How one kind of per-key state is created, snapshotted and restored."""

    create: Callable[[str], T]
    snapshot: Callable[[T], Any] | None = None
    restore: Callable[[Any], T] | None = None


@dataclass(slots=True)
class _Slot(Generic[T]):
    """A conversation's live object, its generation and the stored version it matches."""

    generation: int
    version: int | None
    value: T


class ConversationSlots(Generic[T]):
    """Resolves the state of an isolation key and serializes its turns.

    Live objects sit in an LRU of ``max_live`` entries. With a durable or shared store
    every turn writes the conversation's state through (a snapshot when the codec has
    one), fenced by the turn's lease; a live object evicted from an in-process store is
    parked in it as it is and comes back on the key's next turn.
    """

    def __init__(
        self,
        codec: SlotCodec[T],
        store: StateStore,
        *,
        max_live: int,
        lease_seconds: float = 30.0,
        wait_seconds: float = 300.0,
    ) -> None:
        if max_live < 1:
            raise ValueError("max_live_sessions must be at least 1")
        self._codec = codec
        self._store = store
        self._max_live = max_live
        self._lease_seconds = lease_seconds
        self._wait_seconds = wait_seconds
        self._writes_through = store.durable or store.shared
        self._live: OrderedDict[str, _Slot[T]] = OrderedDict()
        self._leased: set[str] = set()
        self._resetting: dict[str, asyncio.Task[None]] = {}

    @asynccontextmanager
    async def lease(self, isolation_key: str) -> AsyncGenerator[T]:
        """Yield the key's state, exclusively: concurrent leases of one key queue up.

        Raises:
            ConversationBusy: The conversation stayed leased for ``wait_seconds``.
            LeaseLost: The lease expired while the turn ran (another process may have
                taken the conversation over); the turn's state was not written.

        """
        resetting = self._resetting.get(isolation_key)
        if resetting is not None:
            await asyncio.shield(resetting)
        # In one process a turn cannot outlive its owner: its lease needs no expiry.
        shared = self._store.shared
        with lease_wait():
            lease = await self._store.acquire(
                _LEASE + isolation_key,
                ttl=self._lease_seconds if shared else _IN_PROCESS_TTL,
                wait=self._wait_seconds,
                # Another process may have moved the conversation on: read it with the lease.
                read=_STATE + isolation_key if shared else None,
            )
        if lease is None:
            raise ConversationBusy(self._wait_seconds)
        keeper = _LeaseKeeper(self._store, lease, self._lease_seconds) if shared else None
        released = False
        try:
            slot = await self._checkout(isolation_key, lease)
            self._leased.add(isolation_key)
            try:
                yield slot.value
            finally:
                self._leased.discard(isolation_key)
                if keeper is not None:
                    await keeper.stop()
                    keeper = None
                released = await self._checkin(isolation_key, slot, lease)
        finally:
            if keeper is not None:
                await keeper.stop()
            if not released:
                await self._store.release(lease)

    async def reset(self, isolation_key: str) -> None:
        """Move ``isolation_key`` to a new generation and drop the current one."""
        self._live.pop(isolation_key, None)
        state = await update_state(self._store, _STATE + isolation_key, _next_generation)
        await self._store.delete(_PARKED + slot_key(isolation_key, state["generation"] - 1))

    def schedule_reset(self, isolation_key: str) -> None:
        """Start :meth:`reset` in the running loop; the key's next lease waits for it."""
        task = asyncio.get_running_loop().create_task(self.reset(isolation_key))
        self._resetting[isolation_key] = task

        def forget(done: asyncio.Task[None]) -> None:
            if self._resetting.get(isolation_key) is done:
                del self._resetting[isolation_key]
            if not done.cancelled() and done.exception() is not None:
                logger.error("Resetting a session failed", exc_info=done.exception())

        task.add_done_callback(forget)

    async def generation(self, isolation_key: str) -> int:
        """The current generation of ``isolation_key`` (``0`` until its first reset)."""
        return _generation_of(await self._store.get(_STATE + isolation_key))

    @property
    def live_count(self) -> int:
        """How many objects are live in memory."""
        return len(self._live)

    async def _checkout(self, isolation_key: str, lease: Lease) -> _Slot[T]:
        live = self._live.get(isolation_key)
        if live is not None and not self._store.shared:
            self._live.move_to_end(isolation_key)
            return live
        if self._store.shared:
            stored = lease.read
        else:
            stored = await self._store.read(_STATE + isolation_key)
        version = None if stored is None else stored.version
        if live is not None and live.version == version:
            self._live.move_to_end(isolation_key)
            return live
        state = _state_fields(None if stored is None else stored.value)
        generation = _generation_of(state)
        key = slot_key(isolation_key, generation)
        snapshot = state.get("snapshot")
        if snapshot is not None and self._codec.restore is not None:
            return _Slot(generation, version, self._codec.restore(snapshot))
        if not self._writes_through:
            parked = await self._store.get(_PARKED + key)
            if parked is not None:
                await self._store.delete(_PARKED + key)
                return _Slot(generation, version, cast("T", parked))
        return _Slot(generation, version, self._codec.create(key))

    async def _checkin(self, isolation_key: str, slot: _Slot[T], lease: Lease) -> bool:
        """Keep the turn's state; whether the lease was given up with it."""
        if self._writes_through:
            state: dict[str, Any] = {"generation": slot.generation}
            if self._codec.snapshot is not None:
                state["snapshot"] = self._codec.snapshot(slot.value)
            # The state and the lease's end in one step.
            version = await self._store.write(
                _STATE + isolation_key, state, version=slot.version, fence=lease, release=True
            )
            if version is None:  # reset while the turn ran: this generation is garbage
                self._live.pop(isolation_key, None)
                return True
            slot.version = version
        elif await self.generation(isolation_key) != slot.generation:
            return False  # reset while the turn ran
        self._live[isolation_key] = slot
        self._live.move_to_end(isolation_key)
        await self._evict()
        return self._writes_through

    async def _evict(self) -> None:
        """Move the least recently used objects out of memory, skipping leased ones."""
        excess = len(self._live) - self._max_live
        evicted: list[tuple[str, _Slot[T]]] = []
        for isolation_key in list(self._live):
            if excess <= 0:
                break
            if isolation_key in self._leased:
                continue
            evicted.append((isolation_key, self._live.pop(isolation_key)))
            excess -= 1
        if self._writes_through:
            return  # the store holds each one's state already
        for isolation_key, slot in evicted:
            # An in-process store keeps the object itself: serializing it would only
            # cost time.
            await self._store.set(_PARKED + slot_key(isolation_key, slot.generation), slot.value)


class _LeaseKeeper:
    """Renews a lease in the background while its turn runs, at a third of its TTL."""

    def __init__(self, store: StateStore, lease: Lease, ttl: float) -> None:
        self._task = asyncio.create_task(self._renew(store, lease, ttl))

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    @staticmethod
    async def _renew(store: StateStore, lease: Lease, ttl: float) -> None:
        while True:
            await asyncio.sleep(ttl / 3)
            if not await store.renew(lease, ttl=ttl):
                logger.warning("The lease of %s expired while its turn ran", lease.key)
                return


def _state_fields(value: Any) -> Mapping[str, Any]:
    return cast("Mapping[str, Any]", value) if isinstance(value, Mapping) else {}


def _generation_of(value: Any) -> int:
    generation = _state_fields(value).get("generation", 0)
    return generation if isinstance(generation, int) else 0


def _next_generation(value: Any) -> dict[str, Any]:
    return {"generation": _generation_of(value) + 1}

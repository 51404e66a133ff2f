"""A bounded in-process store: the default when nothing is configured."""

from __future__ import annotations

import asyncio
import itertools
import pickle
import time
from collections import OrderedDict, deque
from collections.abc import Mapping
from typing import Any

from ._local import LocalSteps
from ._protocol import Lease, LeaseLost, Versioned

__all__ = ["MemoryStateStore"]


class _Bytes(bytes):
    """Bytes stored as a value: plain bytes in the store are a pickled dict or list."""

    __slots__ = ()


class _Entry:
    """One key's value (or log), its version and when it expires."""

    __slots__ = ("expires", "payload", "version")

    def __init__(self, payload: Any, version: int, expires: float | None) -> None:
        self.payload = payload
        self.version = version
        self.expires = expires


class _Holder:
    """Who holds a lease, until when, and who waits for it (first come, first served)."""

    __slots__ = ("expires", "token", "waiters")

    def __init__(self, token: int, expires: float) -> None:
        self.token = token
        self.expires = expires
        self.waiters: deque[tuple[asyncio.Future[Lease], float]] = deque()


class MemoryStateStore(LocalSteps):
    """Keeps state in this process, evicting the least recently used past ``max_entries``.

    Dicts and lists are kept pickled: a read returns a fresh copy, so changing a value
    after storing (or reading) it changes nothing stored, and the garbage collector has
    one bytes object to skip instead of a tree of containers to walk on every full
    pass. Other values (the live state of a target without a snapshot format) are kept
    as they are. Logs count as entries. Nothing here survives the process, and no other
    process sees it.
    """

    durable = False
    shared = False

    def __init__(self, *, max_entries: int = 10_000) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max_entries = max_entries
        self._data: OrderedDict[str, _Entry] = OrderedDict()
        self._leases: dict[str, _Holder] = {}
        # One sequence for every key: a token is never handed out twice.
        self._tokens = itertools.count(1)
        self._topics: dict[str, set[asyncio.Future[None]]] = {}
        self._clock = time.monotonic

    async def get(self, key: str) -> Any | None:
        """The value under ``key`` (a copy), marked recently used."""
        entry = self._entry(key)
        return None if entry is None else _thaw(entry.payload)

    async def read(self, key: str) -> Versioned | None:
        """The value under ``key`` with its version."""
        entry = self._entry(key)
        return None if entry is None else Versioned(_thaw(entry.payload), entry.version)

    async def set(
        self, key: str, value: Any, *, ttl: float | None = None, fence: Lease | None = None
    ) -> None:
        """Store ``value``, evicting the least recently used entry when full."""
        self._check_fence(fence)
        self._put(key, _freeze(key, value), ttl)

    async def set_many(
        self,
        values: Mapping[str, Any],
        *,
        ttl: float | None = None,
        fence: Lease | None = None,
    ) -> None:
        """Store several values at once."""
        self._check_fence(fence)
        frozen = [(key, _freeze(key, value)) for key, value in values.items()]
        for key, payload in frozen:
            self._put(key, payload, ttl)

    async def _write(
        self,
        key: str,
        value: Any,
        *,
        version: int | None,
        ttl: float | None,
        fence: Lease | None,
    ) -> int | None:
        self._check_fence(fence)
        entry = self._entry(key)
        if (None if entry is None else entry.version) != version:
            return None
        return self._put(key, _freeze(key, value), ttl)

    async def delete(self, *keys: str) -> None:
        """Remove ``keys``; a log's waiting readers wake up."""
        for key in keys:
            entry = self._data.pop(key, None)
            if entry is not None and isinstance(entry.payload, _Log):
                self._wake(_log_topic(key))

    async def expire(self, key: str, ttl: float) -> None:
        """Make ``key`` expire ``ttl`` seconds from now."""
        current = self._entry(key)
        if current is not None:
            current.expires = self._clock() + ttl

    async def append(self, key: str, entry: str, *, ttl: float | None = None) -> int:
        """Append ``entry`` to the log under ``key``; its index."""
        current = self._entry(key)
        if current is None or not isinstance(current.payload, _Log):
            log = _Log()
            self._put(key, log, ttl)
        else:
            log = current.payload
            current.version += 1
            if ttl is not None:
                current.expires = self._clock() + ttl
        log.append(entry)
        self._wake(_log_topic(key))
        return len(log) - 1

    async def read_log(self, key: str, *, after: int = -1, wait: float = 0.0) -> list[str]:
        """The log's entries after ``after``, waiting up to ``wait`` for one."""
        entries = self._log_after(key, after)
        if entries or wait <= 0:
            return entries
        await self.wait(_log_topic(key), seconds=wait)
        return self._log_after(key, after)

    async def _acquire(self, key: str, *, ttl: float, wait: float) -> Lease | None:
        """Take the lease of ``key``, waiting in line up to ``wait`` seconds."""
        deadline = self._clock() + wait
        while True:
            now = self._clock()
            holder = self._leases.get(key)
            if holder is None or holder.expires <= now:
                return self._grant(key, ttl, holder)
            if deadline <= now:
                return None
            turn: asyncio.Future[Lease] = asyncio.get_running_loop().create_future()
            waiting = (turn, ttl)
            holder.waiters.append(waiting)
            try:
                async with asyncio.timeout(min(deadline, holder.expires) - now):
                    return await turn
            except TimeoutError:
                if turn.done() and not turn.cancelled():
                    return turn.result()  # handed over as the wait ran out
            except BaseException:
                if turn.done() and not turn.cancelled():
                    self._pass_on(key, holder)  # handed over to a waiter that left
                raise
            finally:
                if waiting in holder.waiters:
                    holder.waiters.remove(waiting)

    async def renew(self, lease: Lease, *, ttl: float) -> bool:
        """Extend ``lease``; ``False`` when it expired or changed hands."""
        holder = self._holder_of(lease)
        if holder is None:
            return False
        holder.expires = self._clock() + ttl
        return True

    async def release(self, lease: Lease) -> None:
        """Give ``lease`` up and hand it to the first owner waiting for it."""
        holder = self._leases.get(lease.key)
        if holder is not None and holder.token == lease.token:
            self._pass_on(lease.key, holder)

    async def notify(self, topic: str) -> None:
        """Wake every waiter on ``topic``."""
        self._wake(topic)

    async def wait(self, topic: str, *, seconds: float) -> bool:
        """Wait up to ``seconds`` for a notification on ``topic``."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiters = self._topics.setdefault(topic, set())
        waiters.add(future)
        try:
            async with asyncio.timeout(seconds):
                await future
        except TimeoutError:
            return False
        finally:
            waiters.discard(future)
            if not waiters and self._topics.get(topic) is waiters:
                del self._topics[topic]
        return True

    async def close(self) -> None:
        """Drop every entry."""
        self._data.clear()

    def __len__(self) -> int:
        return len(self._data)

    def _entry(self, key: str) -> _Entry | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        if entry.expires is not None and entry.expires <= self._clock():
            del self._data[key]
            return None
        self._data.move_to_end(key)
        return entry

    def _put(self, key: str, payload: Any, ttl: float | None) -> int:
        expires = None if ttl is None else self._clock() + ttl
        entry = self._data.get(key)
        if entry is None:
            self._data[key] = _Entry(payload, 1, expires)
            while len(self._data) > self._max_entries:
                self._data.popitem(last=False)
            return 1
        entry.payload = payload
        entry.version += 1
        entry.expires = expires
        self._data.move_to_end(key)
        return entry.version

    def _log_after(self, key: str, after: int) -> list[str]:
        entry = self._entry(key)
        if entry is None or not isinstance(entry.payload, _Log):
            return []
        return entry.payload[after + 1 :]

    def _grant(self, key: str, ttl: float, holder: _Holder | None) -> Lease:
        token = next(self._tokens)
        if holder is None:
            self._leases[key] = _Holder(token, self._clock() + ttl)
        else:
            holder.token, holder.expires = token, self._clock() + ttl
        return Lease(key, token)

    def _pass_on(self, key: str, holder: _Holder) -> None:
        """End ``holder``'s lease: hand it to the first waiter still waiting, or free it."""
        while holder.waiters:
            turn, ttl = holder.waiters.popleft()
            if not turn.done():
                turn.set_result(self._grant(key, ttl, holder))
                return
        del self._leases[key]

    def _holder_of(self, lease: Lease) -> _Holder | None:
        holder = self._leases.get(lease.key)
        if holder is None or holder.token != lease.token or holder.expires <= self._clock():
            return None
        return holder

    def _check_fence(self, fence: Lease | None) -> None:
        if fence is not None and self._holder_of(fence) is None:
            raise LeaseLost(f"The lease of {fence.key!r} was lost")

    def _wake(self, topic: str) -> None:
        for future in self._topics.pop(topic, ()):
            if not future.done():
                future.set_result(None)


class _Log(list[str]):
    """A log's entries, oldest first."""

    __slots__ = ()


def _log_topic(key: str) -> str:
    return f"\x00log:{key}"


def _freeze(key: str, value: Any) -> Any:
    """What the store keeps for ``value``: dicts and lists as an exact-size pickle."""
    if isinstance(value, dict | list) and not isinstance(value, _Log):
        try:
            pickled = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, AttributeError, TypeError) as error:
            raise TypeError(f"The value of {key!r} cannot be stored: {error}") from None
        # The pickler writes into a 4 KiB buffer and shrinks it when done: kept as it is,
        # each value sits where a 4 KiB block was carved, and the freed tails fragment
        # the heap (about 700 bytes more per stored response, measured). A copy of the
        # exact size is allocated like any other object.
        return memoryview(pickled).tobytes()
    if type(value) is bytes:
        return _Bytes(value)
    return value


def _thaw(payload: Any) -> Any:
    if type(payload) is bytes:
        return pickle.loads(payload)
    if type(payload) is _Bytes:
        return bytes(payload)
    if isinstance(payload, _Log):
        return list(payload)
    return payload

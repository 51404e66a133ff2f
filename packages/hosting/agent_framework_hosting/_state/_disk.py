"""A durable store in a local directory (the ``disk`` extra), shared by the processes using it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from ._local import LocalSteps
from ._protocol import Lease, LeaseLost, Versioned

__all__ = ["DiskStateStore"]

DISK_EXTRA_HINT = (
    "diskcache is not installed: state_dir needs it, pip install 'agent-framework-hosting[disk]'"
)

_POLL_FIRST = 0.005
_POLL_MOST = 0.05
"""How often a waiter looks for another process's change: from 5 ms, backing off to 50."""

_TOPIC_TTL = 300.0
"""Seconds a topic's notification counter outlives its last notification."""

_LOG = "\x00log:"
_LEASE = "\x00lease:"
_TOPIC = "\x00topic:"
_TOKENS = "\x00tokens"


class DiskStateStore(LocalSteps):
    """Keeps state in a diskcache directory: it survives restarts, and processes share it.

    Each write is committed before it returns, so a killed process loses nothing it
    acknowledged. Worker processes of one machine that open the same directory share
    one state: versioned writes and leases are atomic across them (SQLite transactions),
    and a waiter sees another process's append, release or notification within
    :data:`_POLL_MOST` seconds (at once within its own process). Calls run on the event
    loop: they are local file operations of microseconds, except while another process
    holds the database's write lock.
    """

    durable = True
    shared = True

    def __init__(self, directory: str | Path) -> None:
        try:
            import diskcache  # pyright: ignore[reportMissingTypeStubs]
        except ImportError as exc:  # pragma: no cover - exercised in the wheel-only job
            raise ImportError(DISK_EXTRA_HINT) from exc
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        # Nothing is evicted behind the host's back: what expires has a TTL.
        self._cache: Any = diskcache.Cache(str(self.directory), eviction_policy="none")
        self._local: dict[str, set[asyncio.Future[None]]] = {}

    async def get(self, key: str) -> Any | None:
        """The value under ``key``, or ``None``."""
        stored = self._cache.get(key)
        return None if stored is None else stored[1]

    async def read(self, key: str) -> Versioned | None:
        """The value under ``key`` with its version."""
        stored = self._cache.get(key)
        return None if stored is None else Versioned(stored[1], stored[0])

    async def set(
        self, key: str, value: Any, *, ttl: float | None = None, fence: Lease | None = None
    ) -> None:
        """Store ``value`` under ``key``."""
        await self.set_many({key: value}, ttl=ttl, fence=fence)

    async def set_many(
        self,
        values: Mapping[str, Any],
        *,
        ttl: float | None = None,
        fence: Lease | None = None,
    ) -> None:
        """Store several values in one transaction."""
        with self._cache.transact():
            if fence is not None and not self._holds(fence):
                raise LeaseLost(f"The lease of {fence.key!r} was lost")
            for key, value in values.items():
                stored = self._cache.get(key)
                version = 1 if stored is None else stored[0] + 1
                self._cache.set(key, (version, value), expire=ttl)

    async def _write(
        self,
        key: str,
        value: Any,
        *,
        version: int | None,
        ttl: float | None,
        fence: Lease | None,
    ) -> int | None:
        with self._cache.transact():
            if fence is not None and not self._holds(fence):
                raise LeaseLost(f"The lease of {fence.key!r} was lost")
            stored = self._cache.get(key)
            if (None if stored is None else stored[0]) != version:
                return None
            new_version = 1 if version is None else version + 1
            self._cache.set(key, (new_version, value), expire=ttl)
        return new_version

    async def delete(self, *keys: str) -> None:
        """Remove ``keys`` (values and logs)."""
        with self._cache.transact():
            for key in keys:
                self._cache.delete(key)
                count = self._cache.get(_LOG + key)
                if count is not None:
                    for index in range(count):
                        self._cache.delete(_entry_key(key, index))
                    self._cache.delete(_LOG + key)
        for key in keys:
            await self.notify(_LOG + key)

    async def expire(self, key: str, ttl: float) -> None:
        """Make ``key`` (its value, or every entry of its log) expire ``ttl`` seconds from now."""
        with self._cache.transact():
            self._cache.touch(key, expire=ttl)
            count = self._cache.get(_LOG + key)
            if count is not None:
                for index in range(count):
                    self._cache.touch(_entry_key(key, index), expire=ttl)
                self._cache.touch(_LOG + key, expire=ttl)

    async def append(self, key: str, entry: str, *, ttl: float | None = None) -> int:
        """Append ``entry`` to the log under ``key``; its index."""
        with self._cache.transact():
            index = self._cache.get(_LOG + key, 0)
            self._cache.set(_entry_key(key, index), entry, expire=ttl)
            self._cache.set(_LOG + key, index + 1, expire=ttl)
        await self.notify(_LOG + key)
        return cast("int", index)

    async def read_log(self, key: str, *, after: int = -1, wait: float = 0.0) -> list[str]:
        """The log's entries after ``after``, waiting up to ``wait`` for one."""
        entries = self._log_after(key, after)
        if entries or wait <= 0:
            return entries
        await self.wait(_LOG + key, seconds=wait)
        return self._log_after(key, after)

    async def _acquire(self, key: str, *, ttl: float, wait: float) -> Lease | None:
        """Take the lease of ``key``, looking again until ``wait`` runs out."""
        deadline = time.monotonic() + wait
        while True:
            lease = self._try_acquire(key, ttl)
            remaining = deadline - time.monotonic()
            if lease is not None or remaining <= 0:
                return lease
            await self.wait(_LEASE + key, seconds=remaining)

    async def renew(self, lease: Lease, *, ttl: float) -> bool:
        """Extend ``lease``; ``False`` when it expired or changed hands."""
        with self._cache.transact():
            if not self._holds(lease):
                return False
            self._cache.set(_LEASE + lease.key, (lease.token, time.time() + ttl), expire=ttl)
        return True

    async def release(self, lease: Lease) -> None:
        """Give ``lease`` up."""
        with self._cache.transact():
            if not self._holds(lease):
                return
            self._cache.delete(_LEASE + lease.key)
        await self.notify(_LEASE + lease.key)

    async def notify(self, topic: str) -> None:
        """Wake the waiters on ``topic`` in this process at once, and in others by polling."""
        self._cache.incr(_TOPIC + topic, default=0)
        self._cache.touch(_TOPIC + topic, expire=_TOPIC_TTL)
        for future in self._local.pop(topic, ()):
            if not future.done():
                future.set_result(None)

    async def wait(self, topic: str, *, seconds: float) -> bool:
        """Wait up to ``seconds`` for a notification on ``topic``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        seen = self._cache.get(_TOPIC + topic, 0)
        future: asyncio.Future[None] = loop.create_future()
        waiters = self._local.setdefault(topic, set())
        waiters.add(future)
        pause = _POLL_FIRST
        try:
            while True:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return False
                done, _ = await asyncio.wait({future}, timeout=min(pause, remaining))
                if done or self._cache.get(_TOPIC + topic, 0) != seen:
                    return True
                pause = min(pause * 2, _POLL_MOST)
        finally:
            waiters.discard(future)
            if not waiters and self._local.get(topic) is waiters:
                del self._local[topic]

    async def close(self) -> None:
        """Close the underlying database."""
        self._cache.close()

    def _log_after(self, key: str, after: int) -> list[str]:
        count: int = self._cache.get(_LOG + key, 0)
        entries: list[str] = []
        for index in range(max(after + 1, 0), count):
            entry = self._cache.get(_entry_key(key, index))
            if entry is None:  # expired
                break
            entries.append(entry)
        return entries

    def _try_acquire(self, key: str, ttl: float) -> Lease | None:
        with self._cache.transact():
            held = self._cache.get(_LEASE + key)
            if held is not None and held[1] > time.time():
                return None
            token: int = self._cache.incr(_TOKENS, default=0)
            self._cache.set(_LEASE + key, (token, time.time() + ttl), expire=ttl)
        return Lease(key, token)

    def _holds(self, lease: Lease) -> bool:
        held = self._cache.get(_LEASE + lease.key)
        return held is not None and held[0] == lease.token and held[1] > time.time()


def _entry_key(key: str, index: int) -> str:
    return f"{_LOG}{key}\x00{index}"

"""The state store contract every backend implements, and what its calls return."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

__all__ = [
    "Lease",
    "LeaseLost",
    "StateStore",
    "StateUnavailable",
    "Versioned",
    "update_state",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Versioned:
    """A stored value and its version: every write of a key moves its version up by one."""

    value: Any
    version: int


@dataclass(frozen=True, slots=True)
class Lease:
    """Exclusive ownership of a key until it is released or its time runs out.

    ``token`` is the fencing token: it grows with every acquisition of the key, so a
    write fenced by a lease that expired (and was taken by another owner) is refused.
    ``read`` is the value :meth:`StateStore.acquire` was asked to read once the lease
    was taken (``None`` when it was not asked, or the key holds nothing).
    """

    key: str
    token: int
    read: Versioned | None = field(default=None, compare=False)


class LeaseLost(RuntimeError):
    """A fenced write found its lease expired or taken by another owner; nothing was written."""


class StateUnavailable(RuntimeError):
    """The state backend cannot be reached; the request can be retried later."""


@runtime_checkable
class StateStore(Protocol):
    """The host's state: values, versioned writes, logs, leases and notifications.

    Every operation is a coroutine: a network backend must not block the event loop.
    Keys are namespaced by their users (``"session:"``, ``"responses:record:"``, …).
    Values are JSON-compatible (dicts, lists, strings, finite numbers, booleans,
    ``None``); the in-memory backend also keeps other objects as they are. A value
    read is a copy: changing it changes nothing stored.

    A backend whose state other processes share (``shared``) gives them one view:
    versioned writes are atomic across processes, a lease excludes every other
    process, a log append is seen by every reader, a notification reaches every
    waiter. A backend may raise :class:`StateUnavailable` from any call when it cannot
    be reached.
    """

    durable: bool
    """Whether values survive a restart of the process."""

    shared: bool
    """Whether other processes read and write the same state (then nothing held in
    memory can be trusted without checking its version)."""

    async def get(self, key: str) -> Any | None:
        """The value under ``key``, or ``None``."""
        ...

    async def read(self, key: str) -> Versioned | None:
        """The value under ``key`` with its version, or ``None``."""
        ...

    async def set(
        self, key: str, value: Any, *, ttl: float | None = None, fence: Lease | None = None
    ) -> None:
        """Store ``value`` under ``key``; it expires after ``ttl`` seconds when given.

        Raises:
            LeaseLost: ``fence`` is no longer held; nothing was written.

        """
        ...

    async def set_many(
        self,
        values: Mapping[str, Any],
        *,
        ttl: float | None = None,
        fence: Lease | None = None,
    ) -> None:
        """Store several values at once (one round trip, all or nothing).

        Raises:
            LeaseLost: ``fence`` is no longer held; nothing was written.

        """
        ...

    async def write(
        self,
        key: str,
        value: Any,
        *,
        version: int | None,
        ttl: float | None = None,
        fence: Lease | None = None,
        release: bool = False,
    ) -> int | None:
        """Store ``value`` only if ``key`` is still at ``version`` (absent, for ``None``).

        With ``release``, ``fence`` is given up in the same step, written or not: a turn
        ends with one round trip.

        Returns:
            The new version, or ``None`` when another write came first (nothing written).

        Raises:
            LeaseLost: ``fence`` is no longer held; nothing was written.

        """
        ...

    async def delete(self, *keys: str) -> None:
        """Remove ``keys`` (values and logs); removing a missing key is not an error."""
        ...

    async def expire(self, key: str, ttl: float) -> None:
        """Make ``key`` (a value, or a whole log) expire ``ttl`` seconds from now.

        A missing key stays missing; a later write of a value sets its expiry anew.
        """
        ...

    async def append(self, key: str, entry: str, *, ttl: float | None = None) -> int:
        """Append ``entry`` to the log under ``key``; return its index (from 0)."""
        ...

    async def read_log(self, key: str, *, after: int = -1, wait: float = 0.0) -> list[str]:
        """The entries of the log under ``key`` after index ``after``, oldest first.

        With ``wait``, when there are none yet, wait up to ``wait`` seconds for the
        next append (or the log's deletion) before answering.
        """
        ...

    async def acquire(
        self, key: str, *, ttl: float, wait: float = 0.0, read: str | None = None
    ) -> Lease | None:
        """Take the lease of ``key`` for ``ttl`` seconds, waiting up to ``wait`` for it.

        With ``read``, the lease carries that key's value and version as they are once
        the lease is taken (``Lease.read``): a turn starts with one round trip.

        Returns:
            The lease, or ``None`` when another owner still held it after ``wait``.

        """
        ...

    async def renew(self, lease: Lease, *, ttl: float) -> bool:
        """Extend ``lease`` to ``ttl`` seconds from now; ``False`` when it was lost."""
        ...

    async def release(self, lease: Lease) -> None:
        """Give ``lease`` up (nothing, when it was lost meanwhile)."""
        ...

    async def notify(self, topic: str) -> None:
        """Wake every :meth:`wait` on ``topic``, in every process sharing the store."""
        ...

    async def wait(self, topic: str, *, seconds: float) -> bool:
        """Wait up to ``seconds`` for a notification on ``topic``; whether one came.

        A notification sent before the call is not seen: check the state the topic
        is about after registering interest, i.e. read after this returns.
        """
        ...

    async def close(self) -> None:
        """Release the backend's resources."""
        ...


async def update_state(
    store: StateStore,
    key: str,
    change: Callable[[Any | None], T],
    *,
    ttl: float | None = None,
    attempts: int = 64,
) -> T:
    """Read ``key``, compute its new value with ``change``, and write it if nobody wrote first.

    ``change`` receives the current value (``None`` when absent; a copy it may change in
    place) and returns the new one, or the very object it received to write nothing.
    It runs again on the newer value when another writer came first.

    Raises:
        RuntimeError: ``attempts`` writers in a row came first.

    """
    for _ in range(attempts):
        current = await store.read(key)
        given = None if current is None else current.value
        value = change(given)
        if current is not None and value is given:
            return value
        version = None if current is None else current.version
        if await store.write(key, value, version=version, ttl=ttl) is not None:
            return value
    raise RuntimeError(f"Gave up updating {key!r}: {attempts} other writes came first")

"""One small protocol every state backend implements."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

__all__ = ["StateStore"]


@runtime_checkable
class StateStore(Protocol):
    """A key-value store of JSON-compatible values.

    Keys are namespaced by their users (``"alias:"``, ``"session:"``, …). Operations are
    synchronous and short: an in-process map, a local database file, or a network
    round-trip to a shared store.
    """

    durable: bool
    """Whether values survive a process restart (callers then write through)."""

    def get(self, key: str) -> Any | None:
        """Return the value stored under ``key``, or ``None``."""
        ...

    def set(self, key: str, value: Any) -> None:
        """Store ``value`` under ``key``, replacing any previous value."""
        ...

    def delete(self, key: str) -> None:
        """Remove ``key``; removing a missing key is not an error."""
        ...

    def close(self) -> None:
        """Release the backend's resources."""
        ...

"""A durable store on local disk (the ``disk`` extra)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["DiskStateStore"]

DISK_EXTRA_HINT = (
    "diskcache is not installed: state_dir needs it, pip install 'agent-framework-hosting[disk]'"
)


class DiskStateStore:
    """Keeps values in a diskcache directory; they survive process restarts.

    Each write is committed before it returns, so a killed process loses nothing it
    acknowledged.
    """

    durable = True

    def __init__(self, directory: str | Path) -> None:
        try:
            import diskcache  # pyright: ignore[reportMissingTypeStubs]
        except ImportError as exc:  # pragma: no cover - exercised in the wheel-only job
            raise ImportError(DISK_EXTRA_HINT) from exc
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._cache: Any = diskcache.Cache(str(self.directory))

    def get(self, key: str) -> Any | None:
        """Return the value under ``key`` or ``None``."""
        return self._cache.get(key)

    def set(self, key: str, value: Any) -> None:
        """Store ``value`` under ``key``."""
        self._cache.set(key, value)

    def delete(self, key: str) -> None:
        """Remove ``key`` if present."""
        self._cache.delete(key)

    def close(self) -> None:
        """Close the underlying database."""
        self._cache.close()

"""A bounded in-process store."""

from __future__ import annotations

import pickle
from collections import OrderedDict
from typing import Any

__all__ = ["MemoryStateStore"]


class _Bytes(bytes):
    """Bytes stored as a value: plain bytes in the store are a pickled dict or list."""

    __slots__ = ()


class MemoryStateStore:
    """Keeps values in memory, evicting the least recently used past ``max_entries``.

    Dicts and lists are kept pickled, as the disk store keeps them: ``get`` returns a
    fresh copy, so changing a value after storing it (or after reading it) does not
    change what is stored, and the garbage collector has one bytes object to skip
    instead of a tree of containers to walk on every full pass. Pickling is several
    times faster than JSON in both directions. Other values (the in-process state of a
    target without a snapshot format) are kept as they are.
    """

    durable = False

    def __init__(self, *, max_entries: int = 10_000) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max_entries = max_entries
        self._data: OrderedDict[str, Any] = OrderedDict()

    def get(self, key: str) -> Any | None:
        """Return the value under ``key`` and mark it recently used."""
        value = self._data.get(key)
        if value is None:
            return None
        self._data.move_to_end(key)
        if type(value) is bytes:
            return pickle.loads(value)
        return bytes(value) if type(value) is _Bytes else value

    def set(self, key: str, value: Any) -> None:
        """Store ``value``, evicting the least recently used entry when full.

        Raises:
            TypeError: ``value`` is a dict or list holding something that cannot be
                copied (pickled).

        """
        if isinstance(value, dict | list):
            try:
                pickled = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
            except (pickle.PicklingError, AttributeError) as error:
                raise TypeError(f"The value of {key!r} cannot be stored: {error}") from None
            # The pickler writes into a 4 KiB buffer and shrinks it when done: kept as it
            # is, each value sits where a 4 KiB block was carved, and the freed tails
            # fragment the heap (about 700 bytes more per stored response, measured). A
            # copy of the exact size is allocated like any other object.
            value = memoryview(pickled).tobytes()
        elif type(value) is bytes:
            value = _Bytes(value)
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self._max_entries:
            self._data.popitem(last=False)

    def delete(self, key: str) -> None:
        """Remove ``key`` if present."""
        self._data.pop(key, None)

    def close(self) -> None:
        """Drop every entry."""
        self._data.clear()

    def __len__(self) -> int:
        return len(self._data)

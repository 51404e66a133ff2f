"""The state store protocol and its backends."""

from ._disk import DiskStateStore
from ._memory import MemoryStateStore
from ._protocol import StateStore

__all__ = ["DiskStateStore", "MemoryStateStore", "StateStore"]

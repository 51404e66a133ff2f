"""The state store contract and its in-process and on-disk backends."""

from ._disk import DiskStateStore
from ._memory import MemoryStateStore
from ._protocol import Lease, LeaseLost, StateStore, StateUnavailable, Versioned, update_state

__all__ = [
    "DiskStateStore",
    "Lease",
    "LeaseLost",
    "MemoryStateStore",
    "StateStore",
    "StateUnavailable",
    "Versioned",
    "update_state",
]

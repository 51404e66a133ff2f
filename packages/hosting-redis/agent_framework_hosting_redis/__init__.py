"""Redis as the state store of `agent-framework-hosting`: one state for every replica."""

from ._store import RedisStateStore

__all__ = ["RedisStateStore"]

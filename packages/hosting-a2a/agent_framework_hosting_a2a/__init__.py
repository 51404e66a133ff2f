"""The A2A protocol as a channel of `agent-framework-hosting`."""

from ._channel import A2AChannel
from ._service import a2a_isolation_key

__all__ = ["A2AChannel", "a2a_isolation_key"]

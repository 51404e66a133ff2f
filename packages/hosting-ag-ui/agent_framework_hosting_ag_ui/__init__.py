"""The AG-UI protocol as a channel of agent-framework-hosting, and a web chat page on it."""

from ._channel import AGUIChannel
from ._shared_state import shared_state
from ._threads import isolation_key as ag_ui_isolation_key

__all__ = ["AGUIChannel", "ag_ui_isolation_key", "shared_state"]

"""The `Channel` protocol: what the host needs from a protocol adapter."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ._context import ChannelContext
    from ._types import ChannelContribution

__all__ = ["Channel"]


@runtime_checkable
class Channel(Protocol):
    """A protocol adapter the host mounts.

    ``name`` must be unique in a host; ``path`` is where its routes are mounted (an empty
    path puts them at the app root). A channel may also expose ``run_hook``,
    ``response_hook`` and ``stream_update_hook`` attributes; the host invokes them around
    every run the channel starts through its :class:`ChannelContext`.
    """

    name: str
    path: str

    def contribute(self, context: ChannelContext) -> ChannelContribution:
        """Return the routes, commands and lifecycle callbacks of this channel."""
        ...

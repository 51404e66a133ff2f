"""The channel the dev command mounts when this package is installed."""

from __future__ import annotations

from ._channel import MCPChannel

__all__ = ["dev_channel"]


def dev_channel() -> MCPChannel:
    """The MCP endpoint at ``/mcp``."""
    return MCPChannel()

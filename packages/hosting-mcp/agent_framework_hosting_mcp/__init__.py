"""Model Context Protocol channel for agent-framework-hosting: the target as an MCP server."""

from ._channel import DEFAULT_ALLOWED_ORIGINS, MCPChannel

__all__ = ["DEFAULT_ALLOWED_ORIGINS", "MCPChannel"]

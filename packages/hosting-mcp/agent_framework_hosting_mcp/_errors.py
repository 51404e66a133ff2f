"""JSON-RPC error answers for what goes wrong before a message reaches the MCP server."""

from __future__ import annotations

from collections.abc import Mapping

from agent_framework_hosting import HostError, json_response
from mcp_types import INTERNAL_ERROR, INVALID_REQUEST
from starlette.responses import Response

__all__ = ["host_error", "jsonrpc_error"]


def jsonrpc_error(
    status: int,
    message: str,
    *,
    code: int = INVALID_REQUEST,
    headers: Mapping[str, str] | None = None,
    data: object = None,
) -> Response:
    """A JSON-RPC error answering no request (``"id": null``), with an HTTP status.

    The shape the MCP SDK's transport answers its own HTTP-level refusals with, so a
    client reads every error of the endpoint the same way.
    """
    error: dict[str, object] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return json_response(
        {"jsonrpc": "2.0", "id": None, "error": error}, status_code=status, headers=headers
    )


def host_error(error: HostError) -> Response:
    """The errors the host answers under the channel's path, as JSON-RPC errors."""
    code = INTERNAL_ERROR if error.status >= 500 else INVALID_REQUEST
    return jsonrpc_error(error.status, error.message, code=code)

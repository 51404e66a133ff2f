"""A2A errors on the wire: JSON-RPC error objects and HTTP+JSON error bodies, from one error.

Every error the channel answers is an SDK ``A2AError`` (task not found, invalid params,
…), rendered in the shape of the transport that carried the request: a JSON-RPC
response with the spec's code, or an HTTP+JSON body ``{"error": {"code", "status",
"message", "details"}}`` with the spec's HTTP status. Both carry the spec's
``google.rpc.ErrorInfo`` detail naming the reason (``TASK_NOT_FOUND``, …). Errors the
host answers itself (no route, a wrong method, a failure outside the channel) take the
HTTP+JSON shape.

A run refused by the caller's run limit (:class:`RunLimitReached`) has no error of its
own in A2A: it is answered ``429`` with ``Retry-After`` in both shapes, with JSON-RPC's
implementation-defined server error ``-32000`` (A2A keeps ``-32001`` to ``-32099`` for
its own errors), the gRPC status ``RESOURCE_EXHAUSTED`` and the reason
``RUN_LIMIT_REACHED``: retry later, unlike an unsupported operation.
"""

from __future__ import annotations

from typing import Any, cast

from a2a.utils.errors import (
    A2A_ERROR_MAPPING,
    JSON_RPC_ERROR_CODE_MAP,
    A2AError,
    ErrorMapping,
    InternalError,
    InvalidParamsError,
    InvalidRequestError,
    JSONParseError,
    MethodNotFoundError,
    TaskNotFoundError,
)
from agent_framework_hosting import HostError, TooManyRuns, WireError, json_response
from starlette.responses import Response

__all__ = [
    "AGENT_FAILED",
    "Forbidden",
    "RefusedBody",
    "RunLimitReached",
    "Unauthenticated",
    "host_error",
    "invalid_params",
    "jsonrpc_error",
    "not_found",
    "rest_error",
    "run_limit_reached",
    "wire_error",
]

AGENT_FAILED = "The agent failed to complete the task."
"""What a caller learns of an agent's failure; the cause is only logged."""

_ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
_DOMAIN = "a2a-protocol.org"
_INTERNAL = ErrorMapping(500, "INTERNAL", "INTERNAL_ERROR")


class RefusedBody(InvalidRequestError):
    """A body refused at the boundary: too large (``413``), too deep, or not JSON by type."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)  # pyright: ignore[reportUnknownMemberType]
        self.status = status


class Unauthenticated(InvalidRequestError):
    """The request carries no credentials, or credentials that prove nothing (``401``)."""

    status = 401
    message = "Missing or invalid credentials."

    def __init__(self, message: str | None = None, *, challenge: str = "Bearer") -> None:
        super().__init__(message)  # pyright: ignore[reportUnknownMemberType]
        self.challenge = challenge


class Forbidden(InvalidRequestError):
    """The caller is proven but may not use the agent (``403``)."""

    status = 403
    message = "The caller may not use this agent."


class RunLimitReached(A2AError):
    """The caller has as many runs going as the host allows it (``429``, ``Retry-After``)."""

    status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)  # pyright: ignore[reportUnknownMemberType]
        self.retry_after = retry_after


_CODES: dict[type[A2AError], int] = {**JSON_RPC_ERROR_CODE_MAP, RunLimitReached: -32000}
_MAPPINGS: dict[type[A2AError], ErrorMapping] = {
    **A2A_ERROR_MAPPING,
    RunLimitReached: ErrorMapping(429, "RESOURCE_EXHAUSTED", "RUN_LIMIT_REACHED"),
}


def run_limit_reached(error: TooManyRuns) -> RunLimitReached:
    """The A2A error for a run refused by the caller's run limit."""
    return RunLimitReached(error.message, retry_after=error.retry_after)


def wire_error(error: WireError) -> A2AError:
    """The A2A error for a body refused at the boundary.

    Not JSON is the parse error; too large, too deep or declared as another type is an
    invalid request, answered ``413``, ``400`` or ``415``.
    """
    if error.fault == "invalid_json":
        return JSONParseError(error.message)
    return RefusedBody(error.message, status=error.status)


def not_found(task_id: str) -> TaskNotFoundError:
    """The spec's not-found error for a task id unknown in the caller's partition."""
    return TaskNotFoundError(f"Task {task_id!r} was not found.")


def invalid_params(message: str) -> InvalidParamsError:
    """The spec's invalid-params error, with a sentence that names the fix."""
    return InvalidParamsError(message)


def jsonrpc_error(request_id: str | int | None, error: A2AError) -> Response:
    """A JSON-RPC error response.

    An error of a valid call (a task not found, invalid params, a method not found)
    travels in a ``200``, as JSON-RPC clients read it; a body that is no call at all
    (not JSON, not a request object, too large) is a ``4xx``, missing credentials
    a ``401`` with ``WWW-Authenticate``, and a run past the caller's limit a ``429``
    with ``Retry-After``.
    """
    status = getattr(error, "status", None)
    if status is None and isinstance(error, JSONParseError | InvalidRequestError):
        status = 400
    return json_response(
        jsonrpc_error_body(request_id, error),
        status_code=status if isinstance(status, int) else 200,
        headers=_headers(error),
    )


def jsonrpc_error_body(request_id: str | int | None, error: A2AError) -> dict[str, Any]:
    """The JSON-RPC error response object for ``error``."""
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "error": {"code": _code(error), "message": error.message, "data": _details(error)},
    }


def rest_error(error: A2AError) -> Response:
    """An HTTP+JSON error response with the spec's status for ``error``."""
    return json_response(
        rest_error_body(error), status_code=_status(error), headers=_headers(error)
    )


def rest_error_body(error: A2AError) -> dict[str, Any]:
    """The HTTP+JSON error body for ``error`` (also an SSE ``error`` event's data)."""
    return {
        "error": {
            "code": _status(error),
            "status": _mapping(error).grpc_status,
            "message": error.message,
            "details": _details(error),
        }
    }


def host_error(error: HostError) -> Response:
    """An error the host answers under the channel's path, in the HTTP+JSON shape."""
    fault: A2AError
    if error.code == "not_found":
        fault = MethodNotFoundError(error.message)
    elif error.code == "server_error":
        fault = InternalError(error.message)
    else:
        fault = RefusedBody(error.message, status=error.status)
    body = rest_error_body(fault)
    body["error"]["code"] = error.status
    return json_response(body, status_code=error.status)


def _code(error: A2AError) -> int:
    for kind in type(error).__mro__:
        code = _CODES.get(kind)
        if code is not None:
            return code
    return _CODES[InternalError]


def _mapping(error: A2AError) -> ErrorMapping:
    for kind in type(error).__mro__:
        mapping = _MAPPINGS.get(kind)
        if mapping is not None:
            return mapping
    if isinstance(error, JSONParseError):
        return ErrorMapping(400, "INVALID_ARGUMENT", "PARSE_ERROR")
    return _INTERNAL


def _status(error: A2AError) -> int:
    status = getattr(error, "status", None)
    return status if isinstance(status, int) else _mapping(error).http_code


def _details(error: A2AError) -> list[dict[str, Any]]:
    data = cast("Any", error.data)  # pyright: ignore[reportUnknownMemberType]
    metadata = cast("dict[str, Any]", data) if isinstance(data, dict) else {}
    reason = _mapping(error).reason
    if isinstance(error, Unauthenticated):
        reason = "UNAUTHENTICATED"
    elif isinstance(error, Forbidden):
        reason = "PERMISSION_DENIED"
    return [{"@type": _ERROR_INFO, "reason": reason, "domain": _DOMAIN, "metadata": metadata}]


def _headers(error: A2AError) -> dict[str, str] | None:
    if isinstance(error, Unauthenticated):
        return {"WWW-Authenticate": error.challenge}
    if isinstance(error, RunLimitReached):
        return {"Retry-After": str(error.retry_after)}
    return None

"""Errors in the OpenAI error shape."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from agent_framework_hosting import HostError, WorkflowInputError, json_response
from starlette.responses import Response

__all__ = [
    "AGENT_FAILED",
    "INTERRUPTED",
    "ResponsesError",
    "error_payload",
    "error_response",
    "host_error",
    "workflow_input_error",
]

AGENT_FAILED = "The agent failed to produce a response."
"""What a caller learns of an agent failure; the cause goes to the server log only."""

INTERRUPTED = "The response was interrupted: the server running it stopped."
"""What a caller learns of a background response whose process died while it ran."""


class ResponsesError(ValueError):
    """A client error, answered with its status in the OpenAI error shape.

    A ``ValueError``: code that parses a body with the package's helpers catches bad
    input as one. Its ``code`` is never empty: without one it is the error's ``type``.
    """

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        status: int = 400,
        type: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code or type
        self.status = status
        self.type = type

    def response(self) -> Response:
        """The error as an HTTP response."""
        return error_response(
            self.status, self.message, param=self.param, code=self.code, type=self.type
        )


def workflow_input_error(error: WorkflowInputError, body: Mapping[str, Any]) -> ResponsesError:
    """The 400 for input a workflow cannot take; ``param`` names the answer at fault, if one is."""
    param = "input"
    items: object = body.get("input")
    if error.call_id is not None and isinstance(items, list):
        for index, item in enumerate(cast("list[Any]", items)):
            if (
                isinstance(item, dict)
                and cast("dict[str, Any]", item).get("call_id") == error.call_id
            ):
                param = f"input[{index}]"
    return ResponsesError(str(error), param=param, code="invalid_value")


def error_response(
    status: int,
    message: str,
    *,
    param: str | None = None,
    code: str | None = None,
    type: str = "invalid_request_error",
) -> Response:
    """``{"error": {"message", "type", "param", "code"}}`` with ``status``."""
    error = error_payload(message, param=param, code=code, type=type)
    return json_response({"error": error}, status)


def error_payload(
    message: str,
    *,
    param: str | None = None,
    code: str | None = None,
    type: str = "invalid_request_error",
) -> dict[str, str | None]:
    """The error object: ``{"message", "type", "param", "code"}``."""
    return {"message": message, "type": type, "param": param, "code": code}


def host_error(error: HostError) -> Response:
    """An error the host answers under the channel's paths, in the OpenAI error shape.

    No route is ``404`` ``Invalid URL (METHOD path).``, as OpenAI answers; a route
    without the method is ``405`` (with ``Allow``); a refused caller is ``401``
    ``invalid_api_key``, ``403`` ``insufficient_permissions`` or ``429``
    ``rate_limit_exceeded`` (the host adds ``WWW-Authenticate`` or ``Retry-After``); a
    failure outside the channel's code is ``500`` ``server_error``.
    """
    if error.status >= 500:
        return error_response(error.status, error.message, code=error.code, type="server_error")
    message = error.message
    if error.code == "not_found":
        message = f"Invalid URL ({error.method} {error.path})."
    return error_response(error.status, message, code=_OPENAI_CODES.get(error.code, error.code))


_OPENAI_CODES = {
    "unauthorized": "invalid_api_key",
    "forbidden": "insufficient_permissions",
    "too_many_requests": "rate_limit_exceeded",
}
"""The codes OpenAI answers a refused caller with, for the host's channel-neutral ones."""

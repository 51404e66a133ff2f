"""Errors in the OpenAI error shape."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from agent_framework_hosting import WorkflowInputError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

__all__ = [
    "AGENT_FAILED",
    "ResponsesError",
    "error_payload",
    "error_response",
    "unknown_path_route",
    "workflow_input_error",
]

AGENT_FAILED = "The agent failed to produce a response."
"""What a caller learns of an agent failure; the cause goes to the server log only."""


class ResponsesError(Exception):
    """A client error, answered with its status in the OpenAI error shape."""

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
        self.code = code
        self.status = status
        self.type = type

    def response(self) -> JSONResponse:
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
) -> JSONResponse:
    """``{"error": {"message", "type", "param", "code"}}`` with ``status``."""
    error = error_payload(message, param=param, code=code, type=type)
    return JSONResponse({"error": error}, status_code=status)


def error_payload(
    message: str,
    *,
    param: str | None = None,
    code: str | None = None,
    type: str = "invalid_request_error",
) -> dict[str, str | None]:
    """The error object: ``{"message", "type", "param", "code"}``."""
    return {"message": message, "type": type, "param": param, "code": code}


_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def unknown_path_route() -> Route:
    """A last route for any path and method: ``404`` in the OpenAI error shape.

    Without it an id with a ``/`` in it, or a wrong method, gets the router's plain-text
    ``404``/``405`` or a trailing-slash redirect. Mount it only under a non-empty prefix:
    at the root it would answer for every other route after it.
    """

    async def unknown_path(request: Request) -> JSONResponse:
        message = f"Invalid URL ({request.method} {request.url.path})."
        return error_response(404, message, code="not_found")

    return Route("/{path:path}", unknown_path, methods=_METHODS)

"""Errors in the AG-UI shape: a ``RUN_ERROR`` event, as an HTTP body or in a stream."""

from __future__ import annotations

from ag_ui.core import RunErrorEvent
from agent_framework_hosting import HostError, json_response
from starlette.responses import Response

__all__ = ["AGENT_FAILED", "INTERRUPTED", "AGUIError", "host_error"]

AGENT_FAILED = "The agent failed to answer."
"""What a caller learns of an agent failure; the cause goes to the server log only."""

INTERRUPTED = "The run was interrupted: the server running it stopped."
"""What a caller learns of a run whose process died while it ran."""


class AGUIError(Exception):
    """A refusal answered before any event: ``status`` with a ``RUN_ERROR`` body.

    AG-UI defines no error body for HTTP; the channel answers with the protocol's own
    error event, ``{"type": "RUN_ERROR", "message", "code"}``, so a client reads every
    error alike, in a stream or not.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid_request",
        status: int = 400,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.headers = headers or {}

    def event(self) -> RunErrorEvent:
        """The error as the protocol's event."""
        return RunErrorEvent(message=self.message, code=self.code)

    def response(self) -> Response:
        """The error as an HTTP response."""
        body = self.event().model_dump(mode="json", by_alias=True)
        return json_response(body, self.status, headers=self.headers)


def host_error(error: HostError) -> Response:
    """An error the host answers under the channel's paths (no route, a wrong method, …)."""
    return AGUIError(error.message, code=error.code, status=error.status).response()

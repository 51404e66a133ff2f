"""The HTTP endpoint at the channel's path: a request is checked here, then served by the SDK.

In order: the ``Origin`` against the allow list (DNS rebinding), the caller's credentials,
the protocol version, the session's owner, and a POST's body (its type, size and JSON,
decoded at the host's boundary). Each refusal is a JSON-RPC error with its HTTP status.
The caller it proved rides on the request to the tool handlers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from agent_framework_hosting import (
    AuthenticationFailed,
    IsolationKeys,
    PermissionDenied,
    Principal,
    WireError,
    decode_json,
    partition_key,
    read_body,
)
from mcp.server.streamable_http import (
    LAST_EVENT_ID_HEADER,
    MCP_SESSION_ID_HEADER,
    SESSION_ID_PATTERN,
)
from mcp.shared.inbound import MCP_PROTOCOL_VERSION_HEADER
from mcp_types import INVALID_REQUEST, PARSE_ERROR, UNSUPPORTED_PROTOCOL_VERSION
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from ._errors import jsonrpc_error
from ._runs import CallRuns
from ._sessions import SessionManager, SessionOwners

__all__ = ["Caller", "EndpointChecks", "MCPEndpoint", "OriginPolicy", "caller_of"]

_CALLER = "agent_framework_hosting_mcp.caller"
"""Where the endpoint leaves the proven caller in the request's scope."""


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sent a request: the proven principal, trusted isolation keys, their partition."""

    principal: Principal | None
    keys: IsolationKeys = field(default_factory=IsolationKeys)

    @property
    def partition(self) -> str | None:
        """The partition everything the caller opens belongs to (``None``: anonymous)."""
        return partition_key(self.principal, self.keys)


def caller_of(request: Any) -> Caller:
    """The caller the endpoint proved for the HTTP request that carried a message."""
    scope: object = getattr(request, "scope", None)
    caller = cast("dict[str, object]", scope).get(_CALLER) if isinstance(scope, dict) else None
    return caller if isinstance(caller, Caller) else Caller(None)


class OriginPolicy:
    """Which browser origins may call the endpoint; a request without ``Origin`` may.

    An entry is an exact origin (``https://app.example``), an origin with any port
    (``http://localhost:*``), or ``*`` for every origin.
    """

    def __init__(self, allowed: Sequence[str]) -> None:
        self._exact = {origin.rstrip("/") for origin in allowed if not origin.endswith(":*")}
        self._any_port = tuple(origin[:-1] for origin in allowed if origin.endswith(":*"))

    def allows(self, origin: str | None) -> bool:
        """Whether a request from ``origin`` may be served."""
        if origin is None or "*" in self._exact or origin in self._exact:
            return True
        return any(
            origin.startswith(prefix) and origin[len(prefix) :].isdigit()
            for prefix in self._any_port
        )


@dataclass(frozen=True, slots=True)
class EndpointChecks:
    """What the endpoint checks a request against."""

    origins: OriginPolicy
    authenticate: Callable[[HTTPConnection], Awaitable[Principal | None]]
    isolation_keys: Callable[[HTTPConnection], IsolationKeys]
    challenge: Callable[[HTTPConnection, str], str]
    max_body_bytes: int


class MCPEndpoint:
    """ASGI app of the channel's path: checks each request, then the SDK's manager serves it."""

    def __init__(self, owners: SessionOwners, runs: CallRuns, checks: EndpointChecks) -> None:
        self._owners = owners
        self._runs = runs
        self._checks = checks
        self.manager: SessionManager | None = None
        """The session manager while the host runs."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        checks = self._checks
        manager = self.manager
        if manager is None:
            await jsonrpc_error(503, "The server is not running.")(scope, receive, send)
            return
        if not checks.origins.allows(request.headers.get("origin")):
            await jsonrpc_error(403, "Requests from this Origin are not allowed.")(
                scope, receive, send
            )
            return
        try:
            principal = await checks.authenticate(request)
        except AuthenticationFailed as error:
            challenge = {"WWW-Authenticate": checks.challenge(request, error.challenge)}
            await jsonrpc_error(401, error.message, headers=challenge)(scope, receive, send)
            return
        except PermissionDenied as error:
            await jsonrpc_error(403, error.message)(scope, receive, send)
            return
        caller = Caller(principal, checks.isolation_keys(request))
        refusal = await self._refusal(request, caller)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        if request.method == "POST":
            try:
                body = await read_body(request, checks.max_body_bytes)
                decode_json(body)
            except WireError as error:
                code = PARSE_ERROR if error.status == 400 else INVALID_REQUEST
                await jsonrpc_error(error.status, error.message, code=code)(scope, receive, send)
                return
            receive = _replay(body, receive)
        session_id = request.headers.get(MCP_SESSION_ID_HEADER)
        last_event_id = request.headers.get(LAST_EVENT_ID_HEADER)
        if (
            request.method == "GET"
            and session_id is not None
            and last_event_id is not None
            and not manager.is_live(session_id)
        ):
            # The session's transport is gone (another process, or before a restart):
            # its events are still in the store.
            resumed = self._runs.resume(session_id, last_event_id)
            answer = resumed if resumed is not None else jsonrpc_error(404, "Event not found")
            await answer(scope, receive, send)
            return
        scope[_CALLER] = caller
        await manager.handle_request(scope, receive, self._recording(request, caller, send))

    async def _refusal(self, request: Request, caller: Caller) -> Response | None:
        version = request.headers.get(MCP_PROTOCOL_VERSION_HEADER)
        if version is not None and version not in HANDSHAKE_PROTOCOL_VERSIONS:
            # A client probing for a later, sessionless revision falls back to these.
            return jsonrpc_error(
                400,
                "Unsupported protocol version",
                code=UNSUPPORTED_PROTOCOL_VERSION,
                data={"supported": list(HANDSHAKE_PROTOCOL_VERSIONS), "requested": version},
            )
        session_id = request.headers.get(MCP_SESSION_ID_HEADER)
        if session_id is not None and not (
            SESSION_ID_PATTERN.fullmatch(session_id)
            and await self._owners.owns(session_id, caller.partition)
        ):
            # Another caller's session answers as one that does not exist.
            return jsonrpc_error(404, "Session not found")
        if request.method == "POST":
            declared = request.headers.get("content-type", "")
            if declared.partition(";")[0].strip().lower() != "application/json":
                return jsonrpc_error(415, "The request body must be JSON (application/json).")
        return None

    def _recording(self, request: Request, caller: Caller, send: Send) -> Send:
        """``send``, recording the caller as the owner of a session the answer opens."""
        if request.headers.get(MCP_SESSION_ID_HEADER) is not None:
            return send

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                for name, value in message.get("headers", ()):
                    if name.lower() == MCP_SESSION_ID_HEADER.encode():
                        await self._owners.record(value.decode("latin-1"), caller.partition)
            await send(message)

        return recording_send


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the body already read, then what the client sends next."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay

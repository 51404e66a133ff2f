"""The HTTP endpoint at the channel's path: a request is checked here, then served by the SDK.

In order: the ``Origin`` against the allow list (DNS rebinding), the caller's credentials,
the protocol version, the session's owner, a POST's body (its type, size and JSON,
decoded at the host's boundary), and, for a call of the agent tool, the caller's place
within the host's run limits. Each refusal is a JSON-RPC error with its HTTP status; the
host answers a refused caller (``401``, ``403``, ``429``) in the channel's error shape.
The caller it proved, and the run's admission, ride on the request to the tool handlers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from agent_framework_hosting import (
    AuthenticationFailed,
    Caller,
    Principal,
    RunAdmission,
    WireError,
    decode_json,
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

__all__ = ["EndpointChecks", "MCPEndpoint", "OriginPolicy", "caller_of", "claim_admission"]

_CALLER = "agent_framework_hosting_mcp.caller"
"""Where the endpoint leaves the proven caller in the request's scope."""
_ADMISSION = "agent_framework_hosting_mcp.admission"
"""Where the endpoint leaves the admission of the run a call of the agent tool starts."""


def caller_of(request: Any) -> Caller:
    """The caller the endpoint proved for the HTTP request that carried a message."""
    caller = _scope_of(request).get(_CALLER)
    return caller if isinstance(caller, Caller) else Caller()


def claim_admission(request: Any) -> RunAdmission | None:
    """Take over the admission the endpoint took for the call ``request`` carried.

    ``None`` when there is none, or the request ended before its call was dispatched
    (the endpoint gave it back then): the caller of this takes its own.
    """
    admission = _scope_of(request).pop(_ADMISSION, None)
    return admission if isinstance(admission, RunAdmission) else None


def _scope_of(request: Any) -> dict[str, object]:
    scope: object = getattr(request, "scope", None)
    return cast("dict[str, object]", scope) if isinstance(scope, dict) else {}


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
    identify: Callable[[HTTPConnection], Awaitable[Caller]]
    """The caller of a request; raises ``AuthenticationFailed`` or ``PermissionDenied``."""
    challenge: Callable[[HTTPConnection, str], str]
    """An authenticator's ``WWW-Authenticate`` value, pointing at the resource metadata."""
    admit: Callable[[Principal | None], RunAdmission]
    """A place for one run of a principal within the host's run limits."""
    agent_tool: str
    """The name of the tool whose calls run the target."""
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
            caller = await checks.identify(request)
        except AuthenticationFailed as error:
            # The host answers it; its challenge tells a client where to get a token.
            challenge = checks.challenge(request, error.challenge)
            raise AuthenticationFailed(error.message, challenge=challenge) from None
        refusal = await self._refusal(request, caller)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        admission: RunAdmission | None = None
        if request.method == "POST":
            try:
                body = await read_body(request, checks.max_body_bytes)
                message = decode_json(body)
            except WireError as error:
                code = PARSE_ERROR if error.status == 400 else INVALID_REQUEST
                await jsonrpc_error(error.status, error.message, code=code)(scope, receive, send)
                return
            receive = _replay(body, receive)
            if _calls_tool(message, checks.agent_tool):
                # Taken before the SDK answers anything: a refusal is the host's 429.
                admission = await checks.admit(caller.principal).acquire()
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
        if admission is not None:
            # The tool handler claims it and holds it until the run ends.
            scope[_ADMISSION] = admission
        try:
            await manager.handle_request(scope, receive, self._recording(request, caller, send))
        finally:
            unclaimed = claim_admission(request)
            if unclaimed is not None:
                await unclaimed.release()

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


def _calls_tool(message: object, name: str) -> bool:
    """Whether ``message`` is a JSON-RPC request calling the tool ``name``."""
    if not isinstance(message, dict):
        return False
    fields = cast("dict[str, object]", message)
    params = fields.get("params")
    return (
        fields.get("method") == "tools/call"
        and "id" in fields
        and isinstance(params, dict)
        and cast("dict[str, object]", params).get("name") == name
    )


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

"""`MCPChannel`: the target as an MCP server over Streamable HTTP."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass

from agent_framework_hosting import (
    Authenticator,
    ChannelContext,
    ChannelContribution,
    ChannelResponseHook,
    ChannelRunHook,
    ChannelStreamUpdateHook,
)
from mcp.server.lowlevel.server import Server
from starlette.routing import Route

from ._calls import ToolCalls
from ._endpoint import EndpointChecks, MCPEndpoint, OriginPolicy
from ._errors import host_error
from ._metadata import ResourceMetadata, metadata_path
from ._runs import CallRuns
from ._sessions import SessionManager, SessionOwners
from ._tools import ToolNames, tool_name_for

__all__ = ["DEFAULT_ALLOWED_ORIGINS", "MCPChannel"]

logger = logging.getLogger("agent_framework.hosting.mcp")

DEFAULT_ALLOWED_ORIGINS: tuple[str, ...] = (
    "http://localhost:*",
    "http://127.0.0.1:*",
    "http://[::1]:*",
    "https://localhost:*",
    "https://127.0.0.1:*",
    "https://[::1]:*",
)
"""Browser origins served by default: pages of this machine (any port)."""


@dataclass(frozen=True, slots=True)
class _Settings:
    """The channel's settings that every host's server shares."""

    tool_name: str | None
    tool_description: str | None
    instructions: str | None
    auth: Authenticator | None
    authorization_servers: tuple[str, ...]
    scopes: tuple[str, ...]
    resource_url: str | None
    allowed_origins: tuple[str, ...]
    progress_interval: float
    reconnect_delay: float
    session_idle_timeout: float | None
    max_sessions: int | None
    max_body_bytes: int
    event_ttl: float
    lease_seconds: float


class MCPChannel:
    """Serves the target as an MCP server (Streamable HTTP) at ``path``.

    The server offers one tool that sends the target a message (named after the target,
    input: ``message``, optional ``attachments``, ``conversation_id`` and ``answers``)
    and a tool per host command (``reset``, ``new``, …). One MCP session is one
    conversation; ``conversation_id`` picks another, inside the caller's partition.
    A call that asks for progress gets the streamed reply as progress notifications; a
    workflow's questions are asked through elicitation. Streams are resumable with
    ``Last-Event-ID`` from events kept in the host's state store.

    Args:
        path: Where the endpoint is served.
        tool_name: The agent tool's name; defaults to the target's name, made a valid
            tool name.
        tool_description: The agent tool's description; defaults to the target's
            description, else a sentence naming it.
        instructions: The server's instructions to clients; defaults to the target's
            description.
        auth: Proves who calls this channel, instead of the host's authenticator.
        authorization_servers: The OAuth authorization servers that issue tokens for
            this endpoint, named in its protected-resource metadata.
        scopes: The scopes the metadata names.
        resource_url: The endpoint's public URL, when the host is reached through a
            proxy; by default the URL the request reached.
        allowed_origins: Browser origins that may call the endpoint (``scheme://host``,
            ``scheme://host:*`` for any port, ``*`` for all); requests without an
            ``Origin`` header always may.
        progress_interval: The shortest time between two progress notifications of a
            call, in seconds.
        reconnect_delay: How long a client waits before it resumes a dropped stream, in
            seconds (the SSE ``retry`` field).
        session_idle_timeout: Seconds without a request after which a session ends;
            ``None`` keeps sessions until they are deleted.
        max_sessions: The most sessions open at once; ``None`` for no limit.
        max_body_bytes: The largest request body.
        event_ttl: Seconds the events of a stream are kept for a resume after its last.
        lease_seconds: How long the process running a call may go silent (with a state
            store other processes share, as ``state_dir``'s is) before a resume of the
            call's stream finds it interrupted.
        run_hook: Invoked by the host before each run; may rewrite the request.
        response_hook: Invoked by the host on each final result.
        stream_update_hook: Invoked by the host on each streamed update.

    """

    name = "mcp"

    def __init__(
        self,
        *,
        path: str = "/mcp",
        tool_name: str | None = None,
        tool_description: str | None = None,
        instructions: str | None = None,
        auth: Authenticator | None = None,
        authorization_servers: Sequence[str] = (),
        scopes: Sequence[str] = (),
        resource_url: str | None = None,
        allowed_origins: Sequence[str] = DEFAULT_ALLOWED_ORIGINS,
        progress_interval: float = 0.1,
        reconnect_delay: float = 0.5,
        session_idle_timeout: float | None = 30 * 60,
        max_sessions: int | None = 10_000,
        max_body_bytes: int = 4 * 1024 * 1024,
        event_ttl: float = 3600.0,
        lease_seconds: float = 10.0,
        run_hook: ChannelRunHook | None = None,
        response_hook: ChannelResponseHook | None = None,
        stream_update_hook: ChannelStreamUpdateHook | None = None,
    ) -> None:
        if tool_name is not None and tool_name_for(tool_name) != tool_name:
            raise ValueError(
                f"tool_name must be 1-64 letters, digits, '_', '-' or '.', got {tool_name!r}"
            )
        if isinstance(allowed_origins, str):
            raise TypeError("allowed_origins must be a sequence of origins, not one string")
        for option, value in (
            ("progress_interval", progress_interval),
            ("reconnect_delay", reconnect_delay),
        ):
            if value < 0:
                raise ValueError(f"{option} must not be negative, got {value!r}")
        for option, value in (
            ("max_body_bytes", max_body_bytes),
            ("event_ttl", event_ttl),
            ("lease_seconds", lease_seconds),
        ):
            if value <= 0:
                raise ValueError(f"{option} must be positive, got {value!r}")
        self.path = path
        self.run_hook = run_hook
        self.response_hook = response_hook
        self.stream_update_hook = stream_update_hook
        self._settings = _Settings(
            tool_name=tool_name,
            tool_description=tool_description,
            instructions=instructions,
            auth=auth,
            authorization_servers=tuple(authorization_servers),
            scopes=tuple(scopes),
            resource_url=resource_url,
            allowed_origins=tuple(allowed_origins),
            progress_interval=progress_interval,
            reconnect_delay=reconnect_delay,
            session_idle_timeout=session_idle_timeout,
            max_sessions=max_sessions,
            max_body_bytes=max_body_bytes,
            event_ttl=event_ttl,
            lease_seconds=lease_seconds,
        )

    def contribute(self, context: ChannelContext) -> ChannelContribution:
        """The endpoint, its protected-resource metadata when it is protected, its lifecycle."""
        settings = self._settings
        description = getattr(context.target, "description", None)
        description = description if isinstance(description, str) and description else None
        names = ToolNames(
            name=settings.tool_name or tool_name_for(context.target_name),
            description=settings.tool_description
            or description
            or f"Send {context.target_name} a message and get its reply.",
        )
        runs = CallRuns(
            context.state_store,
            event_ttl=settings.event_ttl,
            lease_seconds=settings.lease_seconds,
            keepalive=min(settings.lease_seconds, 15.0),
        )
        calls = ToolCalls(
            context,
            names,
            channel_name=self.name,
            progress_interval=settings.progress_interval,
            runs=runs,
        )
        server: Server[object] = Server(
            context.target_name,
            instructions=settings.instructions or description,
            on_list_tools=calls.list_tools,
            on_call_tool=calls.call_tool,
        )
        metadata = ResourceMetadata(
            path=self.path,
            resource_url=settings.resource_url,
            authorization_servers=settings.authorization_servers,
            scopes=settings.scopes,
            name=context.target_name,
        )
        owners = SessionOwners(
            context.state_store, ttl=max(settings.session_idle_timeout or 0, 24 * 3600)
        )
        auth = settings.auth
        endpoint = MCPEndpoint(
            owners,
            runs,
            EndpointChecks(
                origins=OriginPolicy(settings.allowed_origins),
                identify=lambda connection: context.caller(connection, auth=auth),
                challenge=metadata.challenge,
                admit=context.admit,
                agent_tool=names.name,
                max_body_bytes=settings.max_body_bytes,
            ),
        )
        server_run = _ServerRun(server, context, settings, owners, endpoint, runs)
        protected = auth is not None or context.authenticator is not None
        mounts = (
            {metadata_path(self.path): [Route("/", metadata.document, methods=["GET"])]}
            if protected
            else {}
        )
        return ChannelContribution(
            routes=[Route("/", endpoint)],
            mounts=mounts,
            on_startup=[server_run.start],
            on_shutdown=[server_run.stop],
            error_response=host_error,
        )


class _ServerRun:
    """One host's MCP server while the host runs: its session manager, started and stopped."""

    def __init__(
        self,
        server: Server[object],
        context: ChannelContext,
        settings: _Settings,
        owners: SessionOwners,
        endpoint: MCPEndpoint,
        runs: CallRuns,
    ) -> None:
        self._runs = runs
        self._server = server
        self._context = context
        self._settings = settings
        self._owners = owners
        self._endpoint = endpoint
        self._stack: AsyncExitStack | None = None

    async def start(self) -> None:
        """Start a session manager (one per run of the host) and serve it."""
        settings = self._settings
        manager = SessionManager(
            self._server,
            self._context.state_store,
            event_ttl=settings.event_ttl,
            retry_interval=round(settings.reconnect_delay * 1000),
            max_body_bytes=settings.max_body_bytes,
            session_idle_timeout=settings.session_idle_timeout,
            max_sessions=settings.max_sessions,
        )
        manager.on_discard = self._owners.forget
        stack = AsyncExitStack()
        await stack.enter_async_context(manager.run())
        self._stack = stack
        self._endpoint.manager = manager

    async def stop(self) -> None:
        """Stop the calls in progress (each ends as interrupted), then every session."""
        self._endpoint.manager = None
        await self._runs.stop_all()
        stack, self._stack = self._stack, None
        if stack is not None:
            await stack.aclose()

"""MCP sessions: the SDK's session manager, each session with its own event store and owner.

The SDK's :class:`StreamableHTTPSessionManager` keeps a session's transport for as long
as the session lives in this process. This one gives every session it admits its own
:class:`SessionEvents`, and :class:`SessionOwners` records in the state store which
partition opened each session, so that a session id reaches only its own caller.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import anyio
from agent_framework_hosting import StateStore
from mcp.server.auth.middleware.bearer_auth import AuthorizationContext
from mcp.server.lowlevel.server import Server
from mcp.server.streamable_http import StreamableHTTPServerTransport
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

from ._events import SessionEvents

__all__ = ["SessionManager", "SessionOwners", "conversation_key"]

_ANONYMOUS = ""
"""The partition of every caller of an open host."""


class SessionManager(StreamableHTTPSessionManager):
    """The SDK's session manager, with a state-store event log per session."""

    def __init__(
        self,
        server: Server[Any],
        store: StateStore,
        *,
        event_ttl: float,
        retry_interval: int,
        max_body_bytes: int,
        session_idle_timeout: float | None,
        max_sessions: int | None,
    ) -> None:
        super().__init__(
            server,
            retry_interval=retry_interval,
            max_request_body_size=max_body_bytes,
            session_idle_timeout=session_idle_timeout,
            max_sessions=max_sessions,
        )
        self._store = store
        self._event_ttl = event_ttl
        self.on_discard: Callable[[str], Awaitable[None]] | None = None
        """Called with the id of every session that ended (deleted, idle, failed)."""

    def _admit_session(
        self, requestor: AuthorizationContext | None
    ) -> StreamableHTTPServerTransport | None:
        transport = super()._admit_session(requestor)
        if transport is not None and transport.mcp_session_id is not None:
            # The SDK hands one event store to every session; event ids are per session.
            transport._event_store = SessionEvents(  # pyright: ignore[reportPrivateUsage]
                self._store, transport.mcp_session_id, ttl=self._event_ttl
            )
        return transport

    def is_live(self, session_id: str) -> bool:
        """Whether this process serves ``session_id`` now."""
        return session_id in self._server_instances

    async def _discard_session(
        self, session_id: str, transport: StreamableHTTPServerTransport
    ) -> None:
        await super()._discard_session(session_id, transport)
        if self.on_discard is not None:
            with anyio.CancelScope(shield=True):  # also when the manager is shutting down
                await self.on_discard(session_id)


class SessionOwners:
    """Which partition opened each MCP session (``mcp:session:<id>``)."""

    def __init__(self, store: StateStore, *, ttl: float) -> None:
        self._store = store
        self._ttl = ttl

    async def record(self, session_id: str, partition: str | None) -> None:
        """Remember that ``partition`` opened ``session_id``."""
        await self._store.set(self._key(session_id), partition or _ANONYMOUS, ttl=self._ttl)

    async def owns(self, session_id: str, partition: str | None) -> bool:
        """Whether ``partition`` opened ``session_id`` (a session nobody opened: no).

        A session in use keeps its record: each use starts its time to live again.
        """
        owner = await self._store.get(self._key(session_id))
        if owner is None or owner != (partition or _ANONYMOUS):
            return False
        await self._store.set(self._key(session_id), owner, ttl=self._ttl)
        return True

    async def forget(self, session_id: str) -> None:
        """Drop the record of an ended session."""
        await self._store.delete(self._key(session_id))

    def _key(self, session_id: str) -> str:
        return f"mcp:session:{session_id}"


def conversation_key(
    partition: str | None, *, session_id: str | None, conversation_id: str | None
) -> str | None:
    """The isolation key of a call's conversation: the one it names, else its session's.

    Both kinds live inside the caller's partition, each part percent-encoded, so no two
    callers, and no named conversation and session, share a key. ``None`` for a call
    with neither (it stands alone).
    """
    owner = quote(partition or _ANONYMOUS, safe="")
    if conversation_id is not None:
        return f"mcp:{owner}:conversation:{quote(conversation_id, safe='')}"
    if session_id is not None:
        return f"mcp:{owner}:session:{quote(session_id, safe='')}"
    return None

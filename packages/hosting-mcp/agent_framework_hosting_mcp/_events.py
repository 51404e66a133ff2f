"""Each MCP session's stream events, in the host's state store, for ``Last-Event-ID`` resumes.

The SDK's Streamable HTTP transport stores every message it sends on a stream (a POST's
answer stream, or the session's GET stream) through an :class:`EventStore` before it
writes it, and replays what follows an event id when a client reconnects with
``Last-Event-ID``. Here each session has its own store: its events live in one log per
stream under ``mcp:events:<session>:<stream>``, so an event id of one session means
nothing in another, and the logs follow the host's durability (memory, ``state_dir``, a
shared backend) and expire ``ttl`` seconds after their last event.
"""

from __future__ import annotations

import base64
import binascii

from agent_framework_hosting import StateStore
from mcp.server.streamable_http import EventCallback, EventId, EventMessage, EventStore, StreamId
from mcp_types import JSONRPCMessage, jsonrpc_message_adapter

__all__ = ["SessionEvents", "parse_event_id", "stream_token"]

_PRIMING = ""
"""A priming event (no message): it only gives the client an id to resume from."""


class SessionEvents(EventStore):
    """The stream events of one MCP session.

    An event id is ``<stream>.<index>``: the stream id (a JSON-RPC request id, which
    the client chose) base64url-encoded, and the event's index in its log.
    """

    def __init__(self, store: StateStore, session_id: str, *, ttl: float) -> None:
        self._store = store
        self._prefix = f"mcp:events:{session_id}:"
        self._ttl = ttl

    def log_key(self, token: str) -> str:
        """The key of the log of the stream whose token is ``token``."""
        return self._prefix + token

    async def store_event(self, stream_id: StreamId, message: JSONRPCMessage | None) -> EventId:
        """Append ``message`` (``None``: a priming event) to its stream's log; its event id."""
        token = stream_token(stream_id)
        entry = (
            _PRIMING
            if message is None
            else message.model_dump_json(by_alias=True, exclude_unset=True)
        )
        index = await self._store.append(self._prefix + token, entry, ttl=self._ttl)
        return f"{token}.{index}"

    async def replay_events_after(
        self, last_event_id: EventId, send_callback: EventCallback
    ) -> StreamId | None:
        """Send the events of ``last_event_id``'s stream that follow it; the stream's id.

        ``None`` (nothing replayed, nothing followed) for an id this session never gave.
        """
        parsed = parse_event_id(last_event_id)
        if parsed is None:
            return None
        stream_id, token, position = parsed
        # From the event itself: a log without it never gave this id.
        entries = await self._store.read_log(self._prefix + token, after=position - 1)
        if not entries:
            return None
        for index, entry in enumerate(entries[1:], start=position + 1):
            if entry != _PRIMING:
                message = jsonrpc_message_adapter.validate_json(entry)
                await send_callback(EventMessage(message, f"{token}.{index}"))
        return stream_id


def stream_token(stream_id: str) -> str:
    """A stream id as it appears in keys and event ids (base64url, unpadded)."""
    return base64.urlsafe_b64encode(stream_id.encode()).decode().rstrip("=")


def parse_event_id(event_id: str) -> tuple[str, str, int] | None:
    """An event id's stream id, stream token and index; ``None`` for one never given."""
    token, _, position = event_id.rpartition(".")
    stream_id = _decode(token)
    if stream_id is None or not position.isdigit():
        return None
    return stream_id, token, int(position)


def _decode(token: str) -> str | None:
    try:
        return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None

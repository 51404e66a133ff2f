"""`ResponsesChannel`: the OpenAI Responses API over the host."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence

from agent_framework_hosting import (
    Authenticator,
    Caller,
    ChannelContext,
    ChannelContribution,
    ChannelResponseHook,
    ChannelRunHook,
    ChannelStreamUpdateHook,
)
from starlette.requests import HTTPConnection
from starlette.routing import BaseRoute

from ._compact import Compactions, compaction_route
from ._conversation_store import ConversationStore
from ._conversations import Conversations
from ._conversations_api import conversation_routes, sibling_path
from ._endpoints import ResponseEndpoints
from ._errors import host_error
from ._event_log import EventLogs
from ._identify import Identify
from ._models import model_routes
from ._openapi import openapi_route
from ._response_ids import ResponseIdFactory, response_id_maker
from ._store import ResponseStore
from ._turns import Turns
from ._websocket import websocket_route

__all__ = ["ResponsesChannel"]


class ResponsesChannel:
    """Serves the target as an OpenAI Responses API endpoint.

    ``POST {path}`` (default ``/responses``, and ``/v1/responses`` beside it, so both
    ``OpenAI(base_url="http://host:port")`` and ``base_url="http://host:port/v1"`` work)
    answers with a Response object, or with server-sent events when ``stream`` is true. A
    WebSocket connection at the same path takes ``response.create`` messages, one turn
    after another, and answers each with the same events. ``GET /models`` (and
    ``/v1/models``) lists the target as the one model.

    Continuity: ``previous_response_id`` continues from any response this channel stored,
    over chains of any length, from the context it ended with (deleting earlier responses
    does not change it); naming an older response of a conversation branches from that
    point. Without it, trusted isolation headers name the conversation; otherwise
    each request starts a new one. ``conversation`` continues a conversation of the
    Conversations API, served at ``conversations_path``. ``instructions`` apply to their
    own turn only.

    Args:
        path: Where the endpoint is mounted.
        name: The channel's name; two Responses channels on one host need different
            names (and paths). They share the host's stored responses and conversations.
        conversations_path: Where the Conversations API is mounted (default: beside
            ``path``, ``/responses`` → ``/conversations``, ``/v1/responses`` →
            ``/v1/conversations``). The Models API is mounted beside ``path`` too.
        alias_prefix: Every endpoint is served under this prefix as well (``/v1`` by
            default: ``/v1/responses``, ``/v1/conversations``, ``/v1/models``), as
            OpenAI-compatible clients expect; ``None`` serves only the paths above. Not
            applied to a path that already starts with it, or to an empty ``path``.
        run_hook: Invoked by the host before each run; may rewrite the request.
        response_hook: Invoked by the host on each final result (redaction).
        stream_update_hook: Invoked by the host on each streamed update.
        response_id_factory: Makes response ids (default ``resp_<random hex>``): called
            with the request's ``previous_response_id`` (``None`` without one), or with
            no argument when it takes none.
        max_body_bytes: Larger request bodies are answered 413.
        keepalive_seconds: A silent stream gets an SSE comment after this long.
        background_lease_seconds: With a state store other processes share, how long a
            background run's process may go silent before the run counts as
            interrupted (it renews its lease every third of this); whoever looks at
            the run then records it as failed.
        max_log_events: Events a background stream's log holds before its deltas are
            merged (one per output part), which bounds the log.
        websocket_cache_size: ``store: false`` responses a WebSocket connection keeps so
            that they can be continued on it.
        websocket_max_seconds: How long a WebSocket connection serves turns; then it is
            closed with a ``websocket_connection_limit_reached`` error.
        auth: Proves the callers of this channel instead of the host's authenticator
            (an ``Authorization: Bearer`` key or token, what the ``openai`` SDK sends as
            its ``api_key``). A caller without valid credentials is answered ``401``; a
            WebSocket handshake is refused with it. See ``docs/auth.md``.
        required_scopes: Scopes every caller's principal must hold (``403`` otherwise);
            needs an authenticator, here or on the host.

    Raises:
        ValueError: ``websocket_cache_size`` is less than 1, or ``websocket_max_seconds``
            is negative; when contributed, ``required_scopes`` without an authenticator.
        TypeError: ``response_id_factory`` takes neither no argument nor one.

    """

    name = "responses"
    """The default name; ``name=`` gives an instance another."""

    def __init__(
        self,
        *,
        path: str = "/responses",
        name: str = "responses",
        conversations_path: str | None = None,
        alias_prefix: str | None = "/v1",
        run_hook: ChannelRunHook | None = None,
        response_hook: ChannelResponseHook | None = None,
        stream_update_hook: ChannelStreamUpdateHook | None = None,
        response_id_factory: ResponseIdFactory | None = None,
        max_body_bytes: int = 8 * 1024 * 1024,
        keepalive_seconds: float = 15.0,
        max_log_events: int = 4096,
        background_lease_seconds: float = 15.0,
        websocket_cache_size: int = 64,
        websocket_max_seconds: float = 3600.0,
        auth: Authenticator | None = None,
        required_scopes: Collection[str] = (),
    ) -> None:
        self.path = path
        self.name = name
        if conversations_path is None:
            conversations_path = sibling_path(path, "conversations")
        self.conversations_path = conversations_path
        self.models_path = sibling_path(path, "models")
        self.alias_prefix = alias_prefix
        self.run_hook = run_hook
        self.response_hook = response_hook
        self.stream_update_hook = stream_update_hook
        self._new_response_id = response_id_maker(response_id_factory)
        self._max_body_bytes = max_body_bytes
        self._keepalive_seconds = keepalive_seconds
        self._max_log_events = max_log_events
        self._background_lease_seconds = background_lease_seconds
        if websocket_cache_size < 1:
            raise ValueError("websocket_cache_size must be at least 1")
        if websocket_max_seconds < 0:
            raise ValueError("websocket_max_seconds must not be negative")
        self._websocket_cache_size = websocket_cache_size
        self._websocket_max_seconds = websocket_max_seconds
        self.auth = auth
        self.required_scopes = frozenset(required_scopes)

    def contribute(self, context: ChannelContext) -> ChannelContribution:
        """Mount the Responses routes under the channel's path, and the Conversations API.

        What the host's requests need (stores, conversations, background runs) is made
        here, for this host alone: the channel object keeps only its configuration.
        """
        if self.required_scopes and self.auth is None and context.authenticator is None:
            raise ValueError(
                "required_scopes needs an authenticator: pass auth= to the host or the channel"
            )
        identify = self._identify(context)
        store = ResponseStore(context.state_store)
        objects = ConversationStore(context.state_store)
        conversations = Conversations(store, objects)
        logs = EventLogs(context.state_store, max_events=self._max_log_events)
        compactions = Compactions(context.state_store)
        turns = Turns(
            context,
            conversations,
            compactions,
            logs,
            channel_name=self.name,
            new_response_id=self._new_response_id,
            keepalive_seconds=self._keepalive_seconds,
            background_lease_seconds=self._background_lease_seconds,
        )
        endpoints = ResponseEndpoints(
            turns,
            store,
            conversations,
            logs,
            identify,
            max_body_bytes=self._max_body_bytes,
            keepalive_seconds=self._keepalive_seconds,
        )
        contribution = ChannelContribution(
            on_shutdown=[turns.runs.stop_all],
            error_response=host_error,
            mounts={
                self.conversations_path: conversation_routes(
                    objects, identify, self._max_body_bytes
                ),
                self.models_path: model_routes(context.target_name, identify),
            },
            routes=[
                websocket_route(
                    turns.run_on_websocket,
                    identify,
                    max_message_bytes=self._max_body_bytes,
                    cache_size=self._websocket_cache_size,
                    max_seconds=self._websocket_max_seconds,
                ),
                compaction_route(
                    compactions,
                    conversations,
                    identify,
                    max_body_bytes=self._max_body_bytes,
                    new_id=self._new_response_id,
                ),
                openapi_route(self.path, self.conversations_path),
                *endpoints.routes(),
            ],
        )
        return self._with_aliases(contribution)

    def _with_aliases(self, contribution: ChannelContribution) -> ChannelContribution:
        """Every path of ``contribution`` mounted again under ``alias_prefix``, if new."""
        prefix = "/" + (self.alias_prefix or "").strip("/")
        if prefix == "/" or not self.path.strip("/"):
            return contribution
        mounts: dict[str, Sequence[BaseRoute]] = {}
        for path, routes in {self.path: contribution.routes, **contribution.mounts}.items():
            if path != self.path:
                mounts[path] = routes
            if not ("/" + path.strip("/") + "/").startswith(prefix + "/"):
                mounts[prefix + "/" + path.strip("/")] = routes  # each beside its original
        return dataclasses.replace(contribution, mounts=mounts)

    def _identify(self, context: ChannelContext) -> Identify:
        """Who calls a route of this channel: every route asks first.

        Its principal (proven by the channel's authenticator or the host's, holding the
        required scopes) and the trusted isolation keys make the partition of every
        object the caller creates or reaches. A refused caller raises, and the host
        answers ``401``/``403`` in the OpenAI error shape.
        """

        async def identify(connection: HTTPConnection) -> Caller:
            return await context.caller(connection, auth=self.auth, scopes=self.required_scopes)

        return identify

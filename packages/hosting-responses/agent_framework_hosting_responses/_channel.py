"""`ResponsesChannel`: the OpenAI Responses API over the host."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections import deque
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Collection,
    Mapping,
    Sequence,
)
from typing import Any, NamedTuple, cast

from agent_framework import AgentResponseUpdate
from agent_framework_hosting import (
    ISOLATION_KEYS_ATTRIBUTE,
    Authenticator,
    BackgroundRuns,
    Caller,
    ChannelContext,
    ChannelContribution,
    ChannelRequest,
    ChannelResponseHook,
    ChannelRunHook,
    ChannelSession,
    ChannelStreamUpdateHook,
    ConversationBusy,
    RunAdmission,
    StateUnavailable,
    TooManyRuns,
    WorkflowInputError,
    encode_json,
    json_response,
    released_after,
)
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ._body import read_json_body
from ._compact import Compactions, compaction_route
from ._connection_cache import ConnectionCache
from ._conversation_store import ConversationStore
from ._conversations import Conversations, Turn
from ._conversations_api import conversation_routes, sibling_path
from ._errors import (
    AGENT_FAILED,
    INTERRUPTED,
    ResponsesError,
    error_response,
    host_error,
    workflow_input_error,
)
from ._event_log import EventLogs, EventLogWriter
from ._identify import Identify
from ._input_items import unmatched_outputs
from ._models import model_routes
from ._openapi import openapi_route
from ._parse import ResponsesRequest, parse_responses_identity, parse_responses_request
from ._render import (
    DONE,
    KEEPALIVE,
    OutputStream,
    ResponseDraft,
    SSEWriter,
    completed_response,
    error_event_fields,
    failed_response,
    response_object,
)
from ._replay import replay, sse_response
from ._response_ids import ResponseIdFactory, response_id_maker
from ._store import RUNNING, ResponseRecord, ResponseStore, input_items, page_of
from ._tools import late_tool_clash
from ._websocket import websocket_route

__all__ = ["ResponsesChannel"]

logger = logging.getLogger("agent_framework.hosting")


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
        self._conversations: Conversations | None = None
        self._runs: BackgroundRuns | None = None

    def contribute(self, context: ChannelContext) -> ChannelContribution:
        """Mount the Responses routes under the channel's path, and the Conversations API."""
        if self.required_scopes and self.auth is None and context.authenticator is None:
            raise ValueError(
                "required_scopes needs an authenticator: pass auth= to the host or the channel"
            )
        identify = self._identify(context)
        store = ResponseStore(context.state_store)
        objects = ConversationStore(context.state_store)
        conversations = self._conversations = Conversations(store, objects)
        logs = EventLogs(context.state_store, max_events=self._max_log_events)
        compactions = Compactions(context.state_store)

        async def settle_interrupted(response_id: str) -> None:
            """Record a background response whose process died as failed, and end its log."""
            failed = await conversations.settle_interrupted(response_id)
            if failed is not None:
                fault = ResponsesError(INTERRUPTED, code="server_error", type="server_error")
                events: list[tuple[str, Mapping[str, Any]]] = [
                    ("error", error_event_fields(fault)),
                    ("response.failed", {"response": failed}),
                ]
                await logs.settle(response_id, events)

        runs = self._runs = BackgroundRuns(
            context.state_store,
            "responses",
            settle=settle_interrupted,
            lease_seconds=self._background_lease_seconds,
        )

        async def begin_turn(
            body: Any, caller: Caller, cache: ConnectionCache | None = None
        ) -> _TurnStart:
            """Validate a request body and place its response; both transports start here.

            Raises:
                ResponsesError: The body cannot start a turn.

            """
            own_tools = context.target_tool_names
            parsed = parse_responses_request(
                await compactions.expand(body, caller.partition),
                target_tool_names=own_tools,
                takes_options=context.target_takes_options,
            )
            # An unstored response is still kept by a WebSocket connection's cache.
            kept = parsed.store or parsed.conversation is not None or cache is not None
            turn = await conversations.begin(
                self._new_response_id(parsed.previous_response_id),
                previous_response_id=parsed.previous_response_id,
                caller=caller,
                store=parsed.store,
                inputs=input_items(parsed.body["input"]) if kept else [],
                conversation=parsed.conversation,
                cache=cache,
                answers=unmatched_outputs(parsed.body["input"]),
            )
            draft = ResponseDraft(
                id=turn.response_id,
                model=parsed.model,
                instructions=parsed.instructions,
                previous_response_id=parsed.previous_response_id,
                store=parsed.store,
                metadata=parsed.metadata,
                options=parsed.options,
                tools=parsed.tools,
                tool_choice=parsed.tool_choice,
                background=parsed.background,
                conversation=parsed.conversation,
                safety_identifier=parsed.safety_identifier,
                prompt_cache_key=parsed.prompt_cache_key,
                user=parsed.user,
                own_tools=own_tools,
            )
            return _TurnStart(parsed, turn, self._channel_request(parsed, caller, turn), draft)

        async def checked(start: _TurnStart) -> _TurnStart:
            """Refuse input the target cannot take before anything is sent or stored.

            Raises:
                ResponsesError: The workflow's conversation cannot take the input (400);
                    the turn gives its place in the conversation back.

            """
            try:
                await context.check_input(start.run)
            except WorkflowInputError as error:
                await conversations.abandon(start.turn)
                raise workflow_input_error(error, start.parsed.body) from None
            return start

        async def run_websocket_turn(
            body: Mapping[str, Any], caller: Caller, cache: ConnectionCache, sse: SSEWriter
        ) -> AsyncGenerator[bytes]:
            try:
                admission = await context.admit(caller.principal).acquire()
            except TooManyRuns as error:
                raise too_many_runs(error) from None
            async with admission:
                parsed, turn, run, draft = await checked(await begin_turn(body, caller, cache))
                async for frame in self._stream(context, run, parsed, draft, turn, sse):
                    yield frame

        async def create_response(request: Request) -> Response:
            caller = await identify(request)
            try:
                body = await read_json_body(request, self._max_body_bytes)
            except ResponsesError as error:
                return error.response()
            # Admitted before anything is placed or stored; a refusal is the host's 429.
            admission = context.admit(caller.principal, background=_background(body))
            await admission.acquire()
            handed_over = False  # to the background run, or to the streamed answer
            try:
                try:
                    parsed, turn, run, draft = await checked(await begin_turn(body, caller))
                except ResponsesError as error:
                    return error.response()
                if parsed.stream and parsed.background:
                    log = await logs.create(draft.id, caller.partition)
                    await self._start_background(
                        context, run, parsed, draft, turn, admission, log=log
                    )
                    handed_over = True
                    frames = logs.follow(
                        draft.id,
                        caller.partition,
                        after=-1,
                        keepalive=self._keepalive_seconds,
                        on_silence=lambda: runs.settle_if_orphaned(draft.id),
                    )
                    return sse_response(frames)
                if parsed.stream:
                    handed_over = True
                    frames = self._stream(context, run, parsed, draft, turn)
                    return released_after(sse_response(frames), admission)
                if parsed.background:
                    queued = await self._start_background(
                        context, run, parsed, draft, turn, admission
                    )
                    handed_over = True
                    return json_response(queued)
                return await run_to_completion(parsed, turn, run, draft)
            finally:
                if not handed_over:
                    await admission.release()

        async def run_to_completion(
            parsed: ResponsesRequest, turn: Turn, run: ChannelRequest, draft: ResponseDraft
        ) -> Response:
            try:
                result = await context.run(run, protocol_request=parsed.body)
                completed = completed_response(draft, result.result)
                # Encoded before it is stored: a result JSON cannot carry fails the turn.
                answer = json_response(completed)
            except BaseException as error:
                await conversations.abandon(turn)
                if not isinstance(error, Exception):
                    raise
                fault = run_fault(error, parsed, context)
                if fault is not None:
                    return fault.response()
                logger.exception("Responses run %s failed", draft.id)
                return error_response(500, AGENT_FAILED, code="server_error", type="server_error")
            await self._remember(turn, completed)
            return answer

        async def get_response(request: Request) -> Response:
            partition = (await identify(request)).partition
            record = await _stored(store, partition, request)
            if record is None:
                return _not_found(request)
            if record.response["status"] in RUNNING and await runs.settle_if_orphaned(record.id):
                record = await _stored(store, partition, request) or record
            if "stream" in request.query_params:
                return await replay(
                    logs,
                    record.response,
                    partition,
                    request.query_params,
                    keepalive=self._keepalive_seconds,
                    on_silence=lambda: runs.settle_if_orphaned(record.id),
                )
            return json_response(record.response)

        async def delete_response(request: Request) -> Response:
            partition = (await identify(request)).partition
            response_id = request.path_params["response_id"]
            if not await conversations.delete(response_id, partition):
                return _not_found(request)
            # Its run ends before its log goes: nothing it writes outlives the deletion.
            await runs.cancel(response_id)
            await runs.forget(response_id)
            await logs.delete(response_id, partition)
            return json_response({"id": response_id, "object": "response", "deleted": True})

        async def list_input_items(request: Request) -> Response:
            record = await _stored(store, (await identify(request)).partition, request)
            if record is None:
                return _not_found(request)
            try:
                page = page_of(record.input_items, request.query_params)
            except ResponsesError as error:
                return error.response()
            return json_response(page)

        async def cancel_response(request: Request) -> Response:
            partition = (await identify(request)).partition
            record = await _stored(store, partition, request)
            if record is None:
                return _not_found(request)
            if not record.response.get("background"):
                return error_response(
                    400, "Only background responses can be cancelled.", code="invalid_value"
                )
            await runs.cancel(record.id)  # settled as interrupted if its process died
            record = await _stored(store, partition, request) or record
            return json_response(record.response)

        conversation_api = conversation_routes(objects, identify, self._max_body_bytes)
        contribution = ChannelContribution(
            on_shutdown=[runs.stop_all],
            error_response=host_error,
            mounts={
                self.conversations_path: conversation_api,
                self.models_path: model_routes(context.target_name, identify),
            },
            routes=[
                Route("/", create_response, methods=["POST"]),
                websocket_route(
                    run_websocket_turn,
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
                Route("/{response_id}", get_response, methods=["GET"]),
                Route("/{response_id}", delete_response, methods=["DELETE"]),
                Route("/{response_id}/input_items", list_input_items, methods=["GET"]),
                Route("/{response_id}/cancel", cancel_response, methods=["POST"]),
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

    def _channel_request(
        self, parsed: ResponsesRequest, caller: Caller, turn: Turn
    ) -> ChannelRequest:
        options = parsed.options
        if parsed.instructions:
            # An option, not a message: the session's history must not keep it.
            options = {**options, "instructions": parsed.instructions}
        return ChannelRequest(
            channel=self.name,
            operation="message.create",
            input=[*turn.replay, *parsed.messages],
            session=ChannelSession(isolation_key=turn.conversation if turn.continued else None),
            options=options or None,
            metadata=parsed.metadata,
            attributes={} if caller.keys.is_empty else {ISOLATION_KEYS_ATTRIBUTE: caller.keys},
            stream=parsed.stream,
            identity=parse_responses_identity(caller.keys, parsed.body, caller.principal),
            principal=caller.principal,
        )

    async def _start_background(
        self,
        context: ChannelContext,
        run: ChannelRequest,
        parsed: ResponsesRequest,
        draft: ResponseDraft,
        turn: Turn,
        admission: RunAdmission,
        *,
        log: EventLogWriter | None = None,
    ) -> dict[str, Any]:
        """Store the response as queued and run it in a task of its own.

        With ``log``, the run streams, every event goes to the response's event log, and
        the log starts with ``response.created`` carrying the queued response. The task
        holds ``admission`` (the caller's background run) until the run ends.
        """
        queued = response_object(draft, status="queued", output=[])
        await self._remember(turn, queued)
        if log is not None:
            log.event("response.created", {"response": queued})
            await log.flush()

        async def run_in_background() -> None:
            await self._remember(turn, response_object(draft, status="in_progress", output=[]))
            try:
                if log is not None:
                    # The stream stores its own outcome, and logs it, failures included.
                    async for _ in self._stream(context, run, parsed, draft, turn, log):
                        await log.flush()
                    return
                result = await context.run(run, protocol_request=parsed.body)
                completed = completed_response(draft, result.result)
                encode_json(completed)  # a result JSON cannot carry fails the run
            except asyncio.CancelledError:
                if log is None:
                    cancelled = response_object(draft, status="cancelled", output=[])
                    await self._settle(turn, cancelled)
                else:
                    await log.flush()  # what the cancelled stream framed last
                raise
            except Exception:
                logger.exception("Background response %s failed", draft.id)
                await self._settle(turn, failed_response(draft))
            else:
                await self._remember(turn, completed)

        if self._runs is not None:
            # The caller's admission is given back however the run ends.
            await self._runs.start(draft.id, run_in_background(), on_end=admission.release)
        return queued

    async def _remember(self, turn: Turn, response: dict[str, Any]) -> None:
        if self._conversations is not None:
            await self._conversations.save(turn, response)

    async def _abandon(self, turn: Turn) -> None:
        if self._conversations is not None:
            await self._conversations.abandon(turn)

    async def _settle(self, turn: Turn, response: dict[str, Any]) -> None:
        if self._conversations is not None:
            await self._conversations.settle(turn, response)

    async def _stream(
        self,
        context: ChannelContext,
        run: ChannelRequest,
        parsed: ResponsesRequest,
        draft: ResponseDraft,
        turn: Turn,
        sse: SSEWriter | None = None,
    ) -> AsyncIterator[bytes]:
        if sse is None:
            sse = SSEWriter()
        output = OutputStream(draft)
        try:
            started = response_object(draft, status="in_progress", output=[])
            if not draft.background:  # a background response was announced when queued
                yield sse.event("response.created", {"response": started})
            yield sse.event("response.in_progress", {"response": started})
            stream = await context.run_stream(run, protocol_request=parsed.body)
            try:
                async for update in _with_keepalive(stream, self._keepalive_seconds):
                    if update is None:
                        yield KEEPALIVE
                        continue
                    for kind, fields in output.update(update):
                        yield sse.event(kind, fields)
                final = await stream.get_final_response()
            finally:
                await stream.aclose()
            # A result JSON cannot carry fails here, like the run.
            closing, finished = output.finish(final.result)
        except BaseException as error:
            # The item being written ends incomplete; what was streamed stays the output.
            closing, partial = output.interrupt()
            if not isinstance(error, Exception):
                if draft.background:  # cancelled: the log and the record end with it
                    cancelled = response_object(draft, status="cancelled", output=partial)
                    await self._settle(turn, cancelled)
                    for kind, fields in closing:
                        sse.event(kind, fields)
                    sse.event("response.incomplete", {"response": cancelled})
                else:  # the client went away: the turn produced nothing
                    await self._abandon(turn)
                raise
            fault = run_fault(error, parsed, context)
            if fault is None:
                logger.exception("Responses stream %s failed", draft.id)
            failed = failed_response(draft, output=partial)
            if draft.background:
                await self._settle(turn, failed)  # polled: it must not stay in progress
            else:
                await self._abandon(turn)
            for kind, fields in closing:
                yield sse.event(kind, fields)
            yield sse.event("error", error_event_fields(fault))
            yield sse.event("response.failed", {"response": failed})
            yield DONE
            return
        await self._remember(turn, finished)
        for kind, fields in closing:
            yield sse.event(kind, fields)
        incomplete = finished["status"] == "incomplete"  # the agent hit its token limit
        terminal = "response.incomplete" if incomplete else "response.completed"
        yield sse.event(terminal, {"response": finished})
        yield DONE


class _TurnStart(NamedTuple):
    """A validated request whose response has its place: ready to run on any transport."""

    parsed: ResponsesRequest
    turn: Turn
    run: ChannelRequest
    draft: ResponseDraft


async def _stored(
    store: ResponseStore, partition: str | None, request: Request
) -> ResponseRecord | None:
    return await store.get(request.path_params["response_id"], partition)


def _background(body: Any) -> bool:
    """Whether a request body asks for a background run (counted against its own limit)."""
    return isinstance(body, dict) and cast("dict[str, Any]", body).get("background") is True


def too_many_runs(error: TooManyRuns) -> ResponsesError:
    """A run refused by the caller's run limit, as the channel's error (``429``)."""
    return ResponsesError(error.message, code="rate_limit_exceeded", status=429)


def run_fault(
    error: Exception, parsed: ResponsesRequest, context: ChannelContext
) -> ResponsesError | None:
    """The caller's error a failed run stands for, or ``None`` when the agent failed.

    A conversation busy with another turn for too long is the caller's to retry, and so is
    a run the state store failed under (``503``); a declared tool named like an agent
    tool that became known only in the run is the caller's mistake.
    """
    if isinstance(error, ConversationBusy):
        return ResponsesError(str(error), code="conversation_locked", status=409)
    if isinstance(error, StateUnavailable):
        return ResponsesError(
            "The service's state store cannot be reached; retry shortly.",
            code="service_unavailable",
            status=503,
            type="server_error",
        )
    return late_tool_clash(parsed.body.get("tools"), context.target_tool_names)


def _not_found(request: Request) -> Response:
    response_id = request.path_params["response_id"]
    return error_response(
        404, f"Response with id '{response_id}' not found.", param="response_id", code="not_found"
    )


async def _with_keepalive(
    updates: AsyncIterator[AgentResponseUpdate], interval: float
) -> AsyncIterator[AgentResponseUpdate | None]:
    """Yield the updates, and ``None`` whenever ``interval`` passes without one.

    One task consumes the whole run, so the run's context (session lock, context
    variables) stays in a single task; closing this generator cancels it. Silence is
    watched by one timer per ``interval``, not one per update.
    """
    loop = asyncio.get_running_loop()
    ready: deque[tuple[bool, Any]] = deque()
    wakeup: asyncio.Future[None] | None = None
    last = loop.time()

    def put(entry: tuple[bool, Any]) -> None:
        ready.append(entry)
        if wakeup is not None and not wakeup.done():
            wakeup.set_result(None)

    async def pump() -> None:
        nonlocal last
        try:
            async for update in updates:
                last = loop.time()
                put((True, update))
        except Exception as exc:
            put((False, exc))
        else:
            put((False, None))

    def watch() -> None:
        nonlocal last, timer
        silent = loop.time() - last
        if silent >= interval:
            put((True, None))
            last, silent = loop.time(), 0.0
        timer = loop.call_later(interval - silent, watch)

    timer = loop.call_later(interval, watch)
    task = asyncio.create_task(pump())
    try:
        while True:
            if not ready:
                wakeup = loop.create_future()
                await wakeup
            is_update, value = ready.popleft()
            if is_update:
                yield value
            elif value is None:
                return
            else:
                raise value
    finally:
        timer.cancel()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

"""`Turns`: a response's turn on any transport: placed, run, and its outcome recorded."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import Any, NamedTuple

from agent_framework_hosting import (
    ISOLATION_KEYS_ATTRIBUTE,
    SSE_KEEPALIVE,
    BackgroundRuns,
    Caller,
    ChannelContext,
    ChannelRequest,
    ChannelSession,
    ConversationBusy,
    RunAdmission,
    StateUnavailable,
    TooManyRuns,
    WorkflowInputError,
    encode_json,
    json_response,
    with_keepalive,
)
from starlette.responses import Response

from ._compact import Compactions
from ._connection_cache import ConnectionCache
from ._conversations import Conversations, Turn
from ._errors import AGENT_FAILED, INTERRUPTED, ResponsesError, error_response, workflow_input_error
from ._event_log import EventLogs, EventLogWriter
from ._input_items import unmatched_outputs
from ._parse import ResponsesRequest, identity_of, validate_request
from ._render import (
    DONE,
    OutputStream,
    ResponseDraft,
    SSEWriter,
    completed_response,
    error_event_fields,
    failed_response,
    response_object,
)
from ._response_ids import ResponseIdMaker
from ._store import input_items
from ._tools import late_tool_clash

__all__ = ["TurnStart", "Turns"]

logger = logging.getLogger("agent_framework.hosting.responses")


class TurnStart(NamedTuple):
    """A validated request whose response has its place: ready to run on any transport."""

    parsed: ResponsesRequest
    turn: Turn
    run: ChannelRequest
    draft: ResponseDraft


class Turns:
    """Runs the turns of one host's Responses channel, whatever the transport.

    A turn starts from a request body (:meth:`begin`), then is answered whole
    (:meth:`answer`), streamed (:meth:`stream`), or run in the background
    (:meth:`start_background`); its response is recorded in its conversation however it
    ends. ``runs`` holds the background runs, stopped when the host shuts down.
    """

    def __init__(
        self,
        context: ChannelContext,
        conversations: Conversations,
        compactions: Compactions,
        logs: EventLogs,
        *,
        channel_name: str,
        new_response_id: ResponseIdMaker,
        keepalive_seconds: float,
        background_lease_seconds: float,
    ) -> None:
        self._context = context
        self._conversations = conversations
        self._compactions = compactions
        self._logs = logs
        self._channel_name = channel_name
        self._new_response_id = new_response_id
        self._keepalive_seconds = keepalive_seconds
        self.runs = BackgroundRuns(
            context.state_store,
            "responses",
            settle=self._settle_interrupted,
            lease_seconds=background_lease_seconds,
        )

    def admit(self, caller: Caller, *, background: bool = False) -> RunAdmission:
        """The caller's admission for a run (acquire it before the turn begins)."""
        return self._context.admit(caller.principal, background=background)

    async def begin(
        self, body: Any, caller: Caller, cache: ConnectionCache | None = None
    ) -> TurnStart:
        """Validate a request body and place its response; both transports start here.

        Input the target cannot take is refused before anything is sent or stored.

        Raises:
            ResponsesError: The body cannot start a turn; a workflow's conversation
                cannot take the input (400), and the turn gives its place back.

        """
        own_tools = self._context.target_tool_names
        parsed = validate_request(
            await self._compactions.expand(body, caller.partition),
            target_tool_names=own_tools,
            takes_options=self._context.target_takes_options,
        )
        # An unstored response is still kept by a WebSocket connection's cache.
        kept = parsed.store or parsed.conversation is not None or cache is not None
        turn = await self._conversations.begin(
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
        run = self._channel_request(parsed, caller, turn)
        try:
            await self._context.check_input(run)
        except WorkflowInputError as error:
            await self._conversations.abandon(turn)
            raise workflow_input_error(error, parsed.body) from None
        return TurnStart(parsed, turn, run, draft)

    async def run_on_websocket(
        self, body: Mapping[str, Any], caller: Caller, cache: ConnectionCache, sse: SSEWriter
    ) -> AsyncGenerator[bytes]:
        """One ``response.create`` message of a WebSocket connection, as framed events."""
        try:
            admission = await self.admit(caller).acquire()
        except TooManyRuns as error:
            raise too_many_runs(error) from None
        async with admission:
            start = await self.begin(body, caller, cache)
            async for frame in self.stream(start, sse):
                yield frame

    async def answer(self, start: TurnStart) -> Response:
        """Run the turn to its end and answer with the Response object (or the error)."""
        parsed, turn, run, draft = start
        try:
            result = await self._context.run(run, protocol_request=parsed.body)
            completed = completed_response(draft, result.result)
            # Encoded before it is stored: a result JSON cannot carry fails the turn.
            answer = json_response(completed)
        except BaseException as error:
            await self._conversations.abandon(turn)
            if not isinstance(error, Exception):
                raise
            fault = run_fault(error, parsed, self._context)
            if fault is not None:
                return fault.response()
            logger.exception("Responses run %s failed", draft.id)
            return error_response(500, AGENT_FAILED, code="server_error", type="server_error")
        await self._conversations.save(turn, completed)
        return answer

    async def start_background(
        self, start: TurnStart, admission: RunAdmission, *, log: EventLogWriter | None = None
    ) -> dict[str, Any]:
        """Store the response as queued and run it in a task of its own.

        With ``log``, the run streams, every event goes to the response's event log, and
        the log starts with ``response.created`` carrying the queued response. The task
        holds ``admission`` (the caller's background run) until the run ends.
        """
        parsed, turn, run, draft = start
        queued = response_object(draft, status="queued", output=[])
        await self._conversations.save(turn, queued)
        if log is not None:
            log.event("response.created", {"response": queued})
            await log.flush()

        async def run_in_background() -> None:
            in_progress = response_object(draft, status="in_progress", output=[])
            await self._conversations.save(turn, in_progress)
            try:
                if log is not None:
                    # The stream stores its own outcome, and logs it, failures included.
                    async for _ in self.stream(start, log):
                        await log.flush()
                    return
                result = await self._context.run(run, protocol_request=parsed.body)
                completed = completed_response(draft, result.result)
                encode_json(completed)  # a result JSON cannot carry fails the run
            except asyncio.CancelledError:
                if log is None:
                    cancelled = response_object(draft, status="cancelled", output=[])
                    await self._conversations.settle(turn, cancelled)
                else:
                    await log.flush()  # what the cancelled stream framed last
                raise
            except Exception:
                logger.exception("Background response %s failed", draft.id)
                await self._conversations.settle(turn, failed_response(draft))
            else:
                await self._conversations.save(turn, completed)

        # The caller's admission is given back however the run ends.
        await self.runs.start(draft.id, run_in_background(), on_end=admission.release)
        return queued

    async def stream(self, start: TurnStart, sse: SSEWriter | None = None) -> AsyncIterator[bytes]:
        """The turn's events, framed by ``sse`` (SSE by default), its outcome recorded."""
        parsed, turn, run, draft = start
        if sse is None:
            sse = SSEWriter()
        output = OutputStream(draft)
        try:
            started = response_object(draft, status="in_progress", output=[])
            if not draft.background:  # a background response was announced when queued
                yield sse.event("response.created", {"response": started})
            yield sse.event("response.in_progress", {"response": started})
            stream = await self._context.run_stream(run, protocol_request=parsed.body)
            try:
                async for update in with_keepalive(stream, self._keepalive_seconds):
                    if update is None:
                        yield SSE_KEEPALIVE
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
                    await self._conversations.settle(turn, cancelled)
                    for kind, fields in closing:
                        sse.event(kind, fields)
                    sse.event("response.incomplete", {"response": cancelled})
                else:  # the client went away: the turn produced nothing
                    await self._conversations.abandon(turn)
                raise
            fault = run_fault(error, parsed, self._context)
            if fault is None:
                logger.exception("Responses stream %s failed", draft.id)
            failed = failed_response(draft, output=partial)
            if draft.background:
                await self._conversations.settle(turn, failed)  # polled: not left in progress
            else:
                await self._conversations.abandon(turn)
            for kind, fields in closing:
                yield sse.event(kind, fields)
            yield sse.event("error", error_event_fields(fault))
            yield sse.event("response.failed", {"response": failed})
            yield DONE
            return
        await self._conversations.save(turn, finished)
        for kind, fields in closing:
            yield sse.event(kind, fields)
        incomplete = finished["status"] == "incomplete"  # the agent hit its token limit
        terminal = "response.incomplete" if incomplete else "response.completed"
        yield sse.event(terminal, {"response": finished})
        yield DONE

    async def _settle_interrupted(self, response_id: str) -> None:
        """Record a background response whose process died as failed, and end its log."""
        failed = await self._conversations.settle_interrupted(response_id)
        if failed is not None:
            fault = ResponsesError(INTERRUPTED, code="server_error", type="server_error")
            events: list[tuple[str, Mapping[str, Any]]] = [
                ("error", error_event_fields(fault)),
                ("response.failed", {"response": failed}),
            ]
            await self._logs.settle(response_id, events)

    def _channel_request(
        self, parsed: ResponsesRequest, caller: Caller, turn: Turn
    ) -> ChannelRequest:
        options = parsed.options
        if parsed.instructions:
            # An option, not a message: the session's history must not keep it.
            options = {**options, "instructions": parsed.instructions}
        return ChannelRequest(
            channel=self._channel_name,
            operation="message.create",
            input=[*turn.replay, *parsed.messages],
            session=ChannelSession(isolation_key=turn.conversation if turn.continued else None),
            options=options or None,
            metadata=parsed.metadata,
            attributes={} if caller.keys.is_empty else {ISOLATION_KEYS_ATTRIBUTE: caller.keys},
            stream=parsed.stream,
            identity=identity_of(caller.keys, parsed.body, caller.principal),
            principal=caller.principal,
        )


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

"""`ResponseEndpoints`: create, retrieve, delete and cancel responses, list their input items."""

from __future__ import annotations

from typing import Any, cast

from agent_framework_hosting import json_response, released_after
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ._body import read_json_body
from ._conversations import Conversations
from ._errors import ResponsesError, error_response
from ._event_log import EventLogs
from ._identify import Identify
from ._replay import replay, sse_response
from ._store import RUNNING, ResponseRecord, ResponseStore, page_of
from ._turns import Turns

__all__ = ["ResponseEndpoints"]


class ResponseEndpoints:
    """The HTTP endpoints of stored responses, one instance per host the channel serves.

    Every endpoint asks who calls first (``identify``); a response outside the caller's
    partition answers 404, exactly like a missing one.
    """

    def __init__(
        self,
        turns: Turns,
        store: ResponseStore,
        conversations: Conversations,
        logs: EventLogs,
        identify: Identify,
        *,
        max_body_bytes: int,
        keepalive_seconds: float,
    ) -> None:
        self._turns = turns
        self._store = store
        self._conversations = conversations
        self._logs = logs
        self._identify = identify
        self._max_body_bytes = max_body_bytes
        self._keepalive_seconds = keepalive_seconds

    def routes(self) -> list[Route]:
        """The routes, relative to the channel's path (``POST /`` creates a response)."""
        return [
            Route("/", self.create_response, methods=["POST"]),
            Route("/{response_id}", self.get_response, methods=["GET"]),
            Route("/{response_id}", self.delete_response, methods=["DELETE"]),
            Route("/{response_id}/input_items", self.list_input_items, methods=["GET"]),
            Route("/{response_id}/cancel", self.cancel_response, methods=["POST"]),
        ]

    async def create_response(self, request: Request) -> Response:
        """``POST /responses``: a Response object, its event stream, or a queued response."""
        caller = await self._identify(request)
        try:
            body = await read_json_body(request, self._max_body_bytes)
        except ResponsesError as error:
            return error.response()
        # Admitted before anything is placed or stored; a refusal is the host's 429.
        admission = self._turns.admit(caller, background=_background(body))
        await admission.acquire()
        handed_over = False  # to the background run, or to the streamed answer
        try:
            try:
                start = await self._turns.begin(body, caller)
            except ResponsesError as error:
                return error.response()
            parsed, draft = start.parsed, start.draft
            if parsed.stream and parsed.background:
                log = await self._logs.create(draft.id, caller.partition)
                await self._turns.start_background(start, admission, log=log)
                handed_over = True
                frames = self._logs.follow(
                    draft.id,
                    caller.partition,
                    after=-1,
                    keepalive=self._keepalive_seconds,
                    on_silence=lambda: self._turns.runs.settle_if_orphaned(draft.id),
                )
                return sse_response(frames)
            if parsed.stream:
                handed_over = True
                return released_after(sse_response(self._turns.stream(start)), admission)
            if parsed.background:
                queued = await self._turns.start_background(start, admission)
                handed_over = True
                return json_response(queued)
            return await self._turns.answer(start)
        finally:
            if not handed_over:
                await admission.release()

    async def get_response(self, request: Request) -> Response:
        """``GET /responses/{id}``: the stored response, or (``stream=true``) its events."""
        partition = (await self._identify(request)).partition
        record = await self._stored(partition, request)
        if record is None:
            return _not_found(request)
        runs = self._turns.runs
        if record.response["status"] in RUNNING and await runs.settle_if_orphaned(record.id):
            record = await self._stored(partition, request) or record
        if "stream" in request.query_params:
            response_id = record.id
            return await replay(
                self._logs,
                record.response,
                partition,
                request.query_params,
                keepalive=self._keepalive_seconds,
                on_silence=lambda: runs.settle_if_orphaned(response_id),
            )
        return json_response(record.response)

    async def delete_response(self, request: Request) -> Response:
        """``DELETE /responses/{id}``: the response goes, and its run and log with it."""
        partition = (await self._identify(request)).partition
        response_id = request.path_params["response_id"]
        if not await self._conversations.delete(response_id, partition):
            return _not_found(request)
        # Its run ends before its log goes: nothing it writes outlives the deletion.
        await self._turns.runs.cancel(response_id)
        await self._turns.runs.forget(response_id)
        await self._logs.delete(response_id, partition)
        return json_response({"id": response_id, "object": "response", "deleted": True})

    async def list_input_items(self, request: Request) -> Response:
        """``GET /responses/{id}/input_items``: a page of the response's input items."""
        record = await self._stored((await self._identify(request)).partition, request)
        if record is None:
            return _not_found(request)
        try:
            page = page_of(record.input_items, request.query_params)
        except ResponsesError as error:
            return error.response()
        return json_response(page)

    async def cancel_response(self, request: Request) -> Response:
        """``POST /responses/{id}/cancel``: stop a background response's run."""
        partition = (await self._identify(request)).partition
        record = await self._stored(partition, request)
        if record is None:
            return _not_found(request)
        if not record.response.get("background"):
            return error_response(
                400, "Only background responses can be cancelled.", code="invalid_value"
            )
        await self._turns.runs.cancel(record.id)  # settled as interrupted if its process died
        record = await self._stored(partition, request) or record
        return json_response(record.response)

    async def _stored(self, partition: str | None, request: Request) -> ResponseRecord | None:
        return await self._store.get(request.path_params["response_id"], partition)


def _background(body: Any) -> bool:
    """Whether a request body asks for a background run (counted against its own limit)."""
    return isinstance(body, dict) and cast("dict[str, Any]", body).get("background") is True


def _not_found(request: Request) -> Response:
    response_id = request.path_params["response_id"]
    return error_response(
        404, f"Response with id '{response_id}' not found.", param="response_id", code="not_found"
    )

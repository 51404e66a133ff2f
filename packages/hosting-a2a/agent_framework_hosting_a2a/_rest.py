"""The HTTP+JSON transport: the spec's resource paths under the channel's path.

``POST /message:send`` and ``/message:stream``, ``GET /tasks``, ``GET /tasks/{id}``,
``POST /tasks/{id}:cancel``, ``GET|POST /tasks/{id}:subscribe``, the push configs at
``/tasks/{id}/pushNotificationConfigs[/{configId}]``, and ``GET /extendedAgentCard``.
Bodies pass the host's boundary decoder; query parameters are read into the SDK's
request types as the SDK's client writes them. Errors are ``{"error": {...}}`` with the
spec's HTTP status.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any, TypeVar, cast

from a2a.server.context import ServerCallContext
from a2a.types.a2a_pb2 import (
    CancelTaskRequest,
    DeleteTaskPushNotificationConfigRequest,
    GetTaskPushNotificationConfigRequest,
    GetTaskRequest,
    ListTaskPushNotificationConfigsRequest,
    ListTasksRequest,
    SendMessageRequest,
    SendMessageResponse,
    SubscribeToTaskRequest,
    TaskPushNotificationConfig,
)
from a2a.utils.errors import A2AError, InternalError, InvalidParamsError
from a2a.utils.proto_utils import parse_params, validate_proto_required_fields
from agent_framework_hosting import (
    SSE_KEEPALIVE,
    WireError,
    check_json_content_type,
    decode_json,
    json_response,
    read_body,
)
from google.protobuf.json_format import MessageToDict, ParseDict, ParseError
from google.protobuf.message import Message as ProtoMessage
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ._access import Access
from ._errors import rest_error, rest_error_body, wire_error
from ._service import A2AService, StreamItem
from ._sse import sse_frame, sse_response

__all__ = ["RestEndpoints"]

logger = logging.getLogger("agent_framework.hosting.a2a")

T = TypeVar("T", bound=ProtoMessage)


class RestEndpoints:
    """The HTTP+JSON endpoints of one channel."""

    def __init__(self, service: A2AService, access: Access, *, max_body_bytes: int) -> None:
        self._service = service
        self._access = access
        self._max_body_bytes = max_body_bytes

    def routes(self) -> list[BaseRoute]:
        """The routes, the task actions (``:cancel``) before the plain task path."""
        configs = "/tasks/{id}/pushNotificationConfigs"
        return [
            Route("/message:send", self.send, methods=["POST"]),
            Route("/message:stream", self.stream, methods=["POST"]),
            Route("/tasks/{id}:cancel", self.cancel, methods=["POST"]),
            Route("/tasks/{id}:subscribe", self.subscribe, methods=["GET", "POST"]),
            Route(configs, self.set_push_config, methods=["POST"]),
            Route(configs, self.list_push_configs, methods=["GET"]),
            Route(configs + "/{config_id}", self.get_push_config, methods=["GET"]),
            Route(configs + "/{config_id}", self.delete_push_config, methods=["DELETE"]),
            Route("/tasks/{id}", self.get_task, methods=["GET"]),
            Route("/tasks", self.list_tasks, methods=["GET"]),
            Route("/extendedAgentCard", self.extended_card, methods=["GET"]),
        ]

    async def send(self, request: Request) -> Response:
        """``POST /message:send``."""
        try:
            call = await self._access.caller(request)
            params = await self._body(request, SendMessageRequest)
            task = await self._service.send(params, call)
        except A2AError as error:
            return rest_error(error)
        return _answer(SendMessageResponse(task=task))

    async def stream(self, request: Request) -> Response:
        """``POST /message:stream``."""
        try:
            call = await self._access.caller(request)
            params = await self._body(request, SendMessageRequest)
            events = await self._service.stream(params, call)
        except A2AError as error:
            return rest_error(error)
        return sse_response(_frames(events))

    async def get_task(self, request: Request) -> Response:
        """``GET /tasks/{id}``."""
        try:
            call = await self._access.caller(request)
            params = _query(request, GetTaskRequest)
            params.id = request.path_params["id"]
            task = await self._service.get_task(params, call)
        except A2AError as error:
            return rest_error(error)
        return _answer(task)

    async def list_tasks(self, request: Request) -> Response:
        """``GET /tasks``."""
        try:
            call = await self._access.caller(request)
            page = await self._service.list_tasks(_query(request, ListTasksRequest), call)
        except A2AError as error:
            return rest_error(error)
        return json_response(MessageToDict(page, always_print_fields_with_no_presence=True))

    async def cancel(self, request: Request) -> Response:
        """``POST /tasks/{id}:cancel``."""
        try:
            call = await self._access.caller(request)
            params = CancelTaskRequest(id=request.path_params["id"])
            task = await self._service.cancel(params, call)
        except A2AError as error:
            return rest_error(error)
        return _answer(task)

    async def subscribe(self, request: Request) -> Response:
        """``GET|POST /tasks/{id}:subscribe``."""
        try:
            call = await self._access.caller(request)
            params = SubscribeToTaskRequest(id=request.path_params["id"])
            events = await self._service.subscribe(params, call)
        except A2AError as error:
            return rest_error(error)
        return sse_response(_frames(events))

    async def set_push_config(self, request: Request) -> Response:
        """``POST /tasks/{id}/pushNotificationConfigs``."""
        try:
            call = await self._access.caller(request)
            params = await self._body(request, TaskPushNotificationConfig, required=False)
            params.task_id = request.path_params["id"]
            validate_proto_required_fields(params)
            config = await self._service.set_push_config(params, call)
        except A2AError as error:
            return rest_error(error)
        return _answer(config)

    async def list_push_configs(self, request: Request) -> Response:
        """``GET /tasks/{id}/pushNotificationConfigs``."""
        try:
            call = await self._access.caller(request)
            params = _query(request, ListTaskPushNotificationConfigsRequest)
            params.task_id = request.path_params["id"]
            configs = await self._service.list_push_configs(params, call)
        except A2AError as error:
            return rest_error(error)
        return _answer(configs)

    async def get_push_config(self, request: Request) -> Response:
        """``GET /tasks/{id}/pushNotificationConfigs/{configId}``."""
        try:
            call = await self._access.caller(request)
            params = GetTaskPushNotificationConfigRequest(
                task_id=request.path_params["id"], id=request.path_params["config_id"]
            )
            config = await self._service.get_push_config(params, call)
        except A2AError as error:
            return rest_error(error)
        return _answer(config)

    async def delete_push_config(self, request: Request) -> Response:
        """``DELETE /tasks/{id}/pushNotificationConfigs/{configId}``."""
        try:
            call = await self._access.caller(request)
            params = DeleteTaskPushNotificationConfigRequest(
                task_id=request.path_params["id"], id=request.path_params["config_id"]
            )
            await self._service.delete_push_config(params, call)
        except A2AError as error:
            return rest_error(error)
        return json_response({})

    async def extended_card(self, request: Request) -> Response:
        """``GET /extendedAgentCard``."""
        try:
            call: ServerCallContext = await self._access.caller(request)
            card = await self._service.extended_card(call)
        except A2AError as error:
            return rest_error(error)
        return _answer(card)

    async def _body(self, request: Request, kind: type[T], *, required: bool = True) -> T:
        """The request body as ``kind``.

        Raises:
            A2AError: The body is refused at the boundary, or does not fit ``kind``.

        """
        try:
            check_json_content_type(request)
            body = decode_json(await read_body(request, self._max_body_bytes))
        except WireError as error:
            raise wire_error(error) from None
        if not isinstance(body, dict):
            raise InvalidParamsError("The body must be a JSON object.")
        try:
            message = ParseDict(cast("dict[str, Any]", body), kind(), ignore_unknown_fields=True)
        except (ParseError, ValueError, TypeError) as error:
            raise InvalidParamsError(f"Invalid body: {error}") from None
        if required:
            validate_proto_required_fields(message)
        return message


def _query(request: Request, kind: type[T]) -> T:
    message = kind()
    try:
        parse_params(request.query_params, message)
    except (ParseError, ValueError, TypeError) as error:
        raise InvalidParamsError(f"Invalid query parameters: {error}") from None
    return message


def _answer(message: ProtoMessage) -> Response:
    return json_response(MessageToDict(message))


async def _frames(events: AsyncIterator[StreamItem]) -> AsyncIterator[bytes]:
    try:
        async for event in events:
            yield SSE_KEEPALIVE if event is None else sse_frame(event)
    except A2AError as error:
        yield sse_frame(rest_error_body(error), event="error")
    except Exception:
        logger.exception("A2A stream failed")
        yield sse_frame(rest_error_body(InternalError("The stream failed.")), event="error")

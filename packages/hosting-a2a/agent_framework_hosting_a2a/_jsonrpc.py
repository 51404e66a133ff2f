"""The JSON-RPC 2.0 transport: ``POST {path}`` with a method name, answered or streamed.

The body is read within the channel's size limit and decoded by the host's boundary
decoder (depth, finite numbers, valid Unicode) before anything else; its ``params`` are
parsed into the SDK's request type of the method. Streaming methods answer with
server-sent events, each a JSON-RPC response holding a ``StreamResponse``, with
keep-alive comments while the task is silent.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar, cast

from a2a.server.context import ServerCallContext
from a2a.types.a2a_pb2 import (
    CancelTaskRequest,
    DeleteTaskPushNotificationConfigRequest,
    GetExtendedAgentCardRequest,
    GetTaskPushNotificationConfigRequest,
    GetTaskRequest,
    ListTaskPushNotificationConfigsRequest,
    ListTasksRequest,
    SendMessageRequest,
    SendMessageResponse,
    SubscribeToTaskRequest,
    TaskPushNotificationConfig,
)
from a2a.utils.errors import (
    A2AError,
    InternalError,
    InvalidParamsError,
    InvalidRequestError,
    MethodNotFoundError,
)
from a2a.utils.proto_utils import validate_proto_required_fields
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

from ._access import Access
from ._errors import jsonrpc_error, jsonrpc_error_body, wire_error
from ._service import A2AService, StreamItem
from ._sse import sse_frame, sse_response

__all__ = ["JsonRpcEndpoint"]

logger = logging.getLogger("agent_framework.hosting.a2a")

T = TypeVar("T", bound=ProtoMessage)
RequestId = str | int | None
Unary = Callable[[Any, ServerCallContext], Awaitable[Any]]
Streaming = Callable[[Any, ServerCallContext], Awaitable[AsyncIterator[StreamItem]]]


class JsonRpcEndpoint:
    """``POST {path}``: every A2A method as a JSON-RPC call."""

    def __init__(self, service: A2AService, access: Access, *, max_body_bytes: int) -> None:
        self._access = access
        self._max_body_bytes = max_body_bytes
        self._unary: dict[str, tuple[type[ProtoMessage], Unary]] = {
            "SendMessage": (SendMessageRequest, _send(service)),
            "GetTask": (GetTaskRequest, _dict(service.get_task)),
            "ListTasks": (ListTasksRequest, _dict(service.list_tasks, always=True)),
            "CancelTask": (CancelTaskRequest, _dict(service.cancel)),
            "CreateTaskPushNotificationConfig": (
                TaskPushNotificationConfig,
                _dict(service.set_push_config),
            ),
            "GetTaskPushNotificationConfig": (
                GetTaskPushNotificationConfigRequest,
                _dict(service.get_push_config),
            ),
            "ListTaskPushNotificationConfigs": (
                ListTaskPushNotificationConfigsRequest,
                _dict(service.list_push_configs),
            ),
            "DeleteTaskPushNotificationConfig": (
                DeleteTaskPushNotificationConfigRequest,
                service.delete_push_config,
            ),
            "GetExtendedAgentCard": (GetExtendedAgentCardRequest, _card(service)),
        }
        self._streaming: dict[str, tuple[type[ProtoMessage], Streaming]] = {
            "SendStreamingMessage": (SendMessageRequest, service.stream),
            "SubscribeToTask": (SubscribeToTaskRequest, service.subscribe),
        }

    async def handle(self, request: Request) -> Response:
        """Answer one JSON-RPC call (batches are not supported)."""
        request_id: RequestId = None
        try:
            call = await self._access.caller(request)
            check_json_content_type(request)
            body = decode_json(await read_body(request, self._max_body_bytes))
            request_id = _request_id(body)
            method, params = _call(body)
            if method in self._streaming:
                kind, stream = self._streaming[method]
                events = await stream(_parsed(params, kind), call)
                return sse_response(_frames(events, request_id))
            unary = self._unary.get(method)
            if unary is None:
                raise MethodNotFoundError(f"Method {method!r} is not an A2A method of this agent.")
            kind, handler = unary
            result = await handler(_parsed(params, kind), call)
        except WireError as error:
            return jsonrpc_error(request_id, wire_error(error))
        except A2AError as error:
            return jsonrpc_error(request_id, error)
        return json_response({"jsonrpc": "2.0", "id": request_id, "result": result})


def _request_id(body: Any) -> RequestId:
    """The call's id when it is a valid one (a string, an integer or null)."""
    if not isinstance(body, dict):
        return None
    value = cast("dict[str, Any]", body).get("id")
    if isinstance(value, bool) or not isinstance(value, str | int | None):
        return None
    return value


def _call(body: Any) -> tuple[str, dict[str, Any]]:
    """The method and params of a JSON-RPC request object.

    Raises:
        InvalidRequestError: The body is not a JSON-RPC 2.0 request object.

    """
    if isinstance(body, list):
        raise InvalidRequestError("Batch requests are not supported: send one call per request.")
    if not isinstance(body, dict):
        raise InvalidRequestError("The body must be a JSON-RPC 2.0 request object.")
    fields = cast("dict[str, Any]", body)
    if fields.get("jsonrpc") != "2.0":
        raise InvalidRequestError('A JSON-RPC request needs "jsonrpc": "2.0".')
    identifier = fields.get("id")
    if isinstance(identifier, bool) or not isinstance(identifier, str | int | None):
        raise InvalidRequestError("The request id must be a string, an integer or null.")
    method = fields.get("method")
    if not isinstance(method, str) or not method:
        raise InvalidRequestError("The request needs a method name.")
    params = fields.get("params", {})
    if not isinstance(params, dict):
        raise InvalidParamsError("The params must be an object.")
    return method, cast("dict[str, Any]", params)


def _parsed(params: dict[str, Any], kind: type[T]) -> T:
    """The params as the method's request type.

    Raises:
        InvalidParamsError: They do not fit it, or a required field is missing.

    """
    try:
        message = ParseDict(params, kind(), ignore_unknown_fields=True)
    except (ParseError, ValueError, TypeError) as error:
        raise InvalidParamsError(f"Invalid params: {error}") from None
    validate_proto_required_fields(message)
    return message


async def _frames(events: AsyncIterator[StreamItem], request_id: RequestId) -> AsyncIterator[bytes]:
    try:
        async for event in events:
            if event is None:
                yield SSE_KEEPALIVE
            else:
                yield sse_frame({"jsonrpc": "2.0", "id": request_id, "result": event})
    except A2AError as error:
        yield sse_frame(jsonrpc_error_body(request_id, error), event="error")
    except Exception:
        logger.exception("A2A stream failed")
        fault = InternalError("The stream failed.")
        yield sse_frame(jsonrpc_error_body(request_id, fault), event="error")


def _send(service: A2AService) -> Unary:
    async def send(params: SendMessageRequest, call: ServerCallContext) -> dict[str, Any]:
        return MessageToDict(SendMessageResponse(task=await service.send(params, call)))

    return send


def _card(service: A2AService) -> Unary:
    async def card(params: GetExtendedAgentCardRequest, call: ServerCallContext) -> dict[str, Any]:
        return MessageToDict(await service.extended_card(call))

    return card


def _dict(
    method: Callable[[Any, ServerCallContext], Awaitable[ProtoMessage]], *, always: bool = False
) -> Unary:
    async def answer(params: Any, call: ServerCallContext) -> dict[str, Any]:
        return MessageToDict(
            await method(params, call), always_print_fields_with_no_presence=always
        )

    return answer

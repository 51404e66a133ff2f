"""The Conversations API: conversations and their items, served beside the Responses endpoint.

Shapes follow the ``openai`` SDK's ``types/conversations``. Conversations are kept in the
host's state store and partitioned by the caller (its principal and trusted isolation
keys), like stored responses: another partition's conversation answers 404, exactly like
a missing one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

from agent_framework_hosting import json_response
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ._body import read_json_body
from ._conversation_store import ConversationRecord, ConversationStore, conversation_not_found
from ._errors import ResponsesError
from ._identify import Identify
from ._input_items import messages_from_items
from ._parse import metadata_of
from ._store import input_items, page_of

__all__ = ["conversation_routes", "sibling_path"]

MAX_ITEMS_PER_REQUEST = 20
"""How many items one create or add request may carry, as in the OpenAI API."""

# Everything these name is always included (image URLs, logprobs) or never produced by
# this server (search results, reasoning, code interpreter outputs): each is a no-op.
_INCLUDABLE = frozenset(
    {
        "file_search_call.results",
        "web_search_call.results",
        "web_search_call.action.sources",
        "message.input_image.image_url",
        "computer_call_output.output.image_url",
        "code_interpreter_call.outputs",
        "reasoning.encrypted_content",
        "message.output_text.logprobs",
    }
)

Handler = Callable[[Request, ConversationRecord], Awaitable[Response]]


def sibling_path(path: str, name: str) -> str:
    """``name`` in place of the last segment of ``path``.

    ``/responses`` → ``/conversations``; ``/v1/responses`` → ``/v1/conversations``.
    """
    parent = path.strip("/").rpartition("/")[0]
    return f"/{parent}/{name}" if parent else f"/{name}"


def conversation_routes(
    conversations: ConversationStore,
    identify: Identify,
    max_body_bytes: int,
) -> list[Route]:
    """The routes of the Conversations API, relative to where they are mounted.

    Every route authenticates its caller first (``identify``).
    """

    async def partition(request: Request) -> str | None:
        return (await identify(request)).partition

    def with_conversation(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """Answer 404 unless the path names a conversation in the caller's partition."""

        async def endpoint(request: Request) -> Response:
            conversation_id = request.path_params["conversation_id"]
            record = await conversations.get(conversation_id, await partition(request))
            if record is None:
                return conversation_not_found(conversation_id, param="conversation_id").response()
            try:
                return await handler(request, record)
            except ResponsesError as error:
                return error.response()

        return endpoint

    async def create_conversation(request: Request) -> Response:
        owner = await partition(request)
        try:
            body = _object(await read_json_body(request, max_body_bytes, allow_empty=True))
            _only(body, "items", "metadata")
            items = _new_items(body.get("items"), known=set(), required=False)
            metadata = metadata_of(body.get("metadata"))
        except ResponsesError as error:
            return error.response()
        record = await conversations.create(owner, metadata=metadata, items=items)
        return json_response(record.wire())

    async def get_conversation(_request: Request, record: ConversationRecord) -> Response:
        return json_response(record.wire())

    async def update_conversation(request: Request, record: ConversationRecord) -> Response:
        body = _object(await read_json_body(request, max_body_bytes))
        _only(body, "metadata")
        if "metadata" not in body:
            raise ResponsesError(
                "'metadata' is required.", param="metadata", code="missing_required_parameter"
            )
        metadata = metadata_of(body["metadata"])

        def update(stored: ConversationRecord) -> None:
            stored.metadata = metadata

        changed = await conversations.change(record.id, record.partition, update)
        if changed is None:  # deleted meanwhile
            raise conversation_not_found(record.id, param="conversation_id")
        return json_response(changed[0].wire())

    async def delete_conversation(request: Request, record: ConversationRecord) -> Response:
        await conversations.delete(record.id, record.partition)
        return json_response({"id": record.id, "object": "conversation.deleted", "deleted": True})

    async def list_items(request: Request, record: ConversationRecord) -> Response:
        _check_include(request.query_params)
        return json_response(page_of(record.items, request.query_params))

    async def add_items(request: Request, record: ConversationRecord) -> Response:
        _check_include(request.query_params)
        body = _object(await read_json_body(request, max_body_bytes))
        _only(body, "items")
        added = _new_items(
            body.get("items"), known={item["id"] for item in record.items}, required=True
        )

        def add(stored: ConversationRecord) -> None:
            known = {item["id"] for item in stored.items}
            _check_new(added, known)
            stored.items.extend(added)

        if await conversations.change(record.id, record.partition, add) is None:
            raise conversation_not_found(record.id, param="conversation_id")
        return json_response(
            {
                "object": "list",
                "data": added,
                "first_id": added[0]["id"],
                "last_id": added[-1]["id"],
                "has_more": False,
            }
        )

    async def get_item(request: Request, record: ConversationRecord) -> Response:
        _check_include(request.query_params)
        item = record.item(request.path_params["item_id"])
        if item is None:
            raise _item_not_found(request.path_params["item_id"])
        return json_response(item)

    async def delete_item(request: Request, record: ConversationRecord) -> Response:
        item = record.item(request.path_params["item_id"])
        if item is None:
            raise _item_not_found(request.path_params["item_id"])

        def remove(stored: ConversationRecord) -> None:
            stored.items = [kept for kept in stored.items if kept["id"] != item["id"]]

        changed = await conversations.change(record.id, record.partition, remove)
        if changed is None:
            raise conversation_not_found(record.id, param="conversation_id")
        return json_response(changed[0].wire())

    return [
        Route("/", create_conversation, methods=["POST"]),
        Route("/{conversation_id}", with_conversation(get_conversation), methods=["GET"]),
        Route("/{conversation_id}", with_conversation(update_conversation), methods=["POST"]),
        Route("/{conversation_id}", with_conversation(delete_conversation), methods=["DELETE"]),
        Route("/{conversation_id}/items", with_conversation(list_items), methods=["GET"]),
        Route("/{conversation_id}/items", with_conversation(add_items), methods=["POST"]),
        Route("/{conversation_id}/items/{item_id}", with_conversation(get_item), methods=["GET"]),
        Route(
            "/{conversation_id}/items/{item_id}",
            with_conversation(delete_item),
            methods=["DELETE"],
        ),
    ]


def _object(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, dict):
        raise ResponsesError("The request body must be a JSON object.", code="invalid_type")
    return cast("dict[str, Any]", body)


def _only(body: Mapping[str, Any], *names: str) -> None:
    for name in body:
        if name not in names:
            raise ResponsesError(
                f"Unrecognized request argument: '{name}'.", param=name, code="unknown_parameter"
            )


def _new_items(value: Any, *, known: set[str], required: bool) -> list[dict[str, Any]]:
    """Validated items, as stored (each with an id that is new to the conversation)."""
    if value is None and not required:
        return []
    if not isinstance(value, list) or (required and not value):
        raise ResponsesError(
            "'items' must be a non-empty list of items." if required else "'items' must be a list.",
            param="items",
            code="invalid_type" if not isinstance(value, list) else "invalid_value",
        )
    items = cast("list[Any]", value)
    if len(items) > MAX_ITEMS_PER_REQUEST:
        raise ResponsesError(
            f"At most {MAX_ITEMS_PER_REQUEST} items can be added at a time.",
            param="items",
            code="invalid_value",
        )
    messages_from_items(items, "items")
    stored = input_items(items)
    _check_new(stored, set(known))
    return stored


def _check_new(items: list[dict[str, Any]], known: set[str]) -> None:
    """Refuse an item whose id is in ``known`` or repeats an earlier item's (``known`` grows)."""
    for index, item in enumerate(items):
        if item["id"] in known:
            raise ResponsesError(
                f"items[{index}] has the id '{item['id']}' of an item already in the conversation.",
                param=f"items[{index}].id",
                code="invalid_value",
            )
        known.add(item["id"])


def _check_include(query: QueryParams) -> None:
    for value in [*query.getlist("include[]"), *query.getlist("include")]:
        if value not in _INCLUDABLE:
            raise ResponsesError(
                f"'include' has an unsupported value {value!r}.",
                param="include",
                code="invalid_value",
            )


def _item_not_found(item_id: str) -> ResponsesError:
    return ResponsesError(
        f"Item with id '{item_id}' not found.", param="item_id", code="not_found", status=404
    )

"""Compaction: ``POST /responses/compact`` and the compaction items it mints.

A compaction stands for a transcript: the stored inputs and outputs of the response
named by ``previous_response_id`` and of those before it, then the request's ``input``.
The channel runs no model to summarize it: the transcript is kept whole in the host's
state store, in the caller's partition, under a random token, and the compaction item's
``encrypted_content`` is that token. A later request whose ``input`` holds the item gets
the transcript in its place, so the agent continues exactly where the compacted
conversation was. A token is never the transcript itself; one minted for another
partition, or never minted, is answered 400 ``invalid_encrypted_content``.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from typing import Any, cast

from agent_framework_hosting import StateStore, json_response
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ._body import read_json_body
from ._conversations import Conversations
from ._errors import ResponsesError
from ._identify import Identify
from ._input_items import message_from_item, messages_from_responses_input
from ._parse import check_service_tier, short_key
from ._response_ids import ResponseIdMaker
from ._store import input_items

__all__ = ["Compactions", "compaction_route"]

_PREFIX = "responses:compaction:"
_ACCEPTED = frozenset(
    {
        "model",
        "input",
        "previous_response_id",
        "prompt_cache_key",
        "prompt_cache_retention",
        "service_tier",
    }
)
_CACHE_RETENTIONS = ("in_memory", "24h")
_ITEM_FIELDS = frozenset({"type", "id", "encrypted_content"})
# Fields that steer a summarizing model; compaction here runs none.
_UNSUPPORTED = frozenset({"instructions", "image", "prompt_cache_options"})


class Compactions:
    """Mints compaction items and resolves them, in the caller's partition only."""

    def __init__(self, store: StateStore) -> None:
        self._store = store

    async def mint(self, items: list[dict[str, Any]], partition: str | None) -> dict[str, Any]:
        """Keep ``items`` and return the ``compaction`` item that stands for them.

        Item ids are dropped: items a compaction brings back get fresh ids.
        """
        token = secrets.token_urlsafe(32)
        kept = [{key: value for key, value in item.items() if key != "id"} for item in items]
        await self._store.set(_PREFIX + token, {"partition": partition, "items": kept})
        return {
            "id": f"cmp_{secrets.token_hex(24)}",
            "type": "compaction",
            "encrypted_content": token,
        }

    async def expand(self, body: Any, partition: str | None) -> Any:
        """``body`` with each compaction item of its ``input`` replaced by its transcript."""
        if not isinstance(body, dict):
            return body
        fields = cast("dict[str, Any]", body)
        items = fields.get("input")
        if not isinstance(items, list):
            return fields
        expanded = await self.expand_input(cast("list[Any]", items), partition)
        return {**fields, "input": expanded}

    async def expand_input(self, items: list[Any], partition: str | None) -> list[Any]:
        """``items`` with each compaction item replaced by the transcript it stands for.

        Raises:
            ResponsesError: An item is malformed (checked where it stands, before a
                transcript shifts it), or a compaction item is not one this channel
                minted in ``partition`` (400 ``invalid_encrypted_content``).

        """
        if not any(_is_compaction(item) for item in items):
            return items
        expanded: list[Any] = []
        for index, item in enumerate(items):
            where = f"input[{index}]"
            if _is_compaction(item):
                item_fields = cast("Mapping[str, Any]", item)
                expanded.extend(await self._transcript(item_fields, where, partition))
            else:
                message_from_item(item, where)
                expanded.append(item)
        return expanded

    async def _transcript(
        self, item: Mapping[str, Any], where: str, partition: str | None
    ) -> list[dict[str, Any]]:
        for name, value in item.items():
            if name not in _ITEM_FIELDS:
                raise ResponsesError(
                    f"Unrecognized field: '{where}.{name}'.",
                    param=f"{where}.{name}",
                    code="unknown_parameter",
                )
            if name == "id" and value is not None and not isinstance(value, str):
                raise ResponsesError(
                    f"{where}.id must be a string.", param=f"{where}.id", code="invalid_type"
                )
        token = item.get("encrypted_content")
        if not isinstance(token, str) or not token:
            raise ResponsesError(
                f"{where}.encrypted_content must be a non-empty string.",
                param=f"{where}.encrypted_content",
                code="invalid_type",
            )
        raw = await self._store.get(_PREFIX + token)
        fields = cast("Mapping[str, Any]", raw) if isinstance(raw, Mapping) else None
        # Another partition's compaction is indistinguishable from a made-up one.
        if fields is None or fields.get("partition") != partition:
            raise ResponsesError(
                f"{where} is not a compaction this server made for this caller.",
                param=f"{where}.encrypted_content",
                code="invalid_encrypted_content",
            )
        return list(fields["items"])


def compaction_route(
    compactions: Compactions,
    conversations: Conversations,
    identify: Identify,
    *,
    max_body_bytes: int,
    new_id: ResponseIdMaker,
) -> Route:
    """The ``POST /compact`` route under the channel's path."""

    async def compact(request: Request) -> Response:
        partition = (await identify(request)).partition
        try:
            fields = _validated(await read_json_body(request, max_body_bytes))
            items = await _transcript_of(compactions, conversations, fields, partition)
        except ResponsesError as error:
            return error.response()
        compaction = await compactions.mint(items, partition)
        return json_response(
            {
                "id": new_id(fields.get("previous_response_id")),
                "object": "response.compaction",
                "created_at": int(time.time()),
                "output": [compaction],
                "usage": _NO_USAGE,
            }
        )

    return Route("/compact", compact, methods=["POST"])


# No model runs: compaction costs no tokens.
_NO_USAGE = {
    "input_tokens": 0,
    "output_tokens": 0,
    "total_tokens": 0,
    "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
    "output_tokens_details": {"reasoning_tokens": 0},
}


def _validated(body: Any) -> dict[str, Any]:
    """The compact request body, checked field by field."""
    if not isinstance(body, dict):
        raise ResponsesError("The request body must be a JSON object.", code="invalid_type")
    fields = cast("dict[str, Any]", body)
    for name, value in fields.items():
        if name in _UNSUPPORTED and value is not None:
            raise ResponsesError(
                f"'{name}' is not supported by compaction here: it runs no model.",
                param=name,
                code="unsupported_parameter",
            )
        if name not in _ACCEPTED and name not in _UNSUPPORTED:
            raise ResponsesError(
                f"Unrecognized request argument: '{name}'.", param=name, code="unknown_parameter"
            )
    model = fields.get("model")
    if model is None:
        raise ResponsesError(
            "'model' is required.", param="model", code="missing_required_parameter"
        )
    for name in ("model", "previous_response_id"):
        if fields.get(name) is not None and not isinstance(fields[name], str):
            raise ResponsesError(f"'{name}' must be a string.", param=name, code="invalid_type")
    short_key(fields, "prompt_cache_key")
    check_service_tier(fields.get("service_tier"))
    if fields.get("prompt_cache_retention") not in (None, *_CACHE_RETENTIONS):
        raise ResponsesError(
            f"'prompt_cache_retention' must be one of {', '.join(_CACHE_RETENTIONS)}.",
            param="prompt_cache_retention",
            code="invalid_value",
        )
    if fields.get("input") is None and fields.get("previous_response_id") is None:
        raise ResponsesError(
            "Nothing to compact: give 'input', 'previous_response_id', or both.",
            param="input",
            code="missing_required_parameter",
        )
    return fields


async def _transcript_of(
    compactions: Compactions,
    conversations: Conversations,
    fields: Mapping[str, Any],
    partition: str | None,
) -> list[dict[str, Any]]:
    """The items to compact: the stored conversation, then the request's input."""
    items: list[dict[str, Any]] = []
    previous_response_id = fields.get("previous_response_id")
    if previous_response_id is not None:
        items.extend(await conversations.transcript_items(previous_response_id, partition))
    body_input = fields.get("input")
    if body_input is not None:
        if isinstance(body_input, list):
            body_input = await compactions.expand_input(cast("list[Any]", body_input), partition)
        messages_from_responses_input(body_input)
        items.extend(input_items(body_input))
    return items


def _is_compaction(item: Any) -> bool:
    return isinstance(item, dict) and cast("dict[str, Any]", item).get("type") == "compaction"

"""Stored responses and conversation heads, in the host's state store.

Records are partitioned by the caller's user key; a foreign partition's record reads as
missing.

A record also lists the stored responses that follow it (its ``children``), so that a
deleted one can stay as a *deleted entry* while anything still replays it: its caller
sees it gone, its descendants keep continuing from the context they ended with. A
deleted entry keeps only what a replay needs (its input items and output), and goes once
nothing follows it and its own run, if any, has ended.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, cast

from agent_framework_hosting import StateStore, update_state

from ._errors import ResponsesError
from ._input_items import BARE_PARTS

__all__ = [
    "RUNNING",
    "ConversationHead",
    "ResponseRecord",
    "ResponseStore",
    "input_items",
    "page_of",
]

_PREFIX = "responses:record:"
_HEAD_PREFIX = "responses:head:"

RUNNING = frozenset({"queued", "in_progress"})
"""The statuses of a response whose run has not ended."""

_KEPT_WHEN_DELETED = ("id", "status", "output", "conversation")
"""The fields of a deleted response that its replay and its clean-up read."""


@dataclass(frozen=True, slots=True)
class ResponseRecord:
    """A stored response: its conversation, its owner's partition, and its wire objects.

    Attributes:
        conversation: The isolation key of the session it ran in.
        partition: The owner's user key: the record is visible in this partition only.
        response: The Response object (of a deleted entry, only what a replay reads).
        input_items: The request's input items.
        parent: The response it follows in its conversation (``None`` for the first):
            the chain a branch replays.
        children: The stored responses that follow it.
        deleted: Deleted, and kept only for what follows it (or for its run to end).
        ancestry: For a response a WebSocket connection keeps unstored, the transcript
            of the stored responses before it, as it was when its turn began.

    """

    conversation: str
    partition: str | None
    response: dict[str, Any]
    input_items: list[dict[str, Any]]
    parent: str | None = None
    children: tuple[str, ...] = ()
    deleted: bool = False
    ancestry: list[dict[str, Any]] | None = None

    @property
    def id(self) -> str:
        """The response id."""
        return self.response["id"]


@dataclass(frozen=True, slots=True)
class ConversationHead:
    """A conversation's latest response, and its latest stored one (the next one's parent)."""

    latest: str
    stored: str | None


class ResponseStore:
    """Reads and writes response records; a foreign partition's record reads as missing.

    Every change of a stored record is a versioned write, so processes sharing the store
    never undo each other's changes (a child adopted here, a deletion there).
    """

    def __init__(self, store: StateStore) -> None:
        self._store = store

    async def save(self, record: ResponseRecord) -> bool:
        """Store ``record`` under its response id; whether it is visible.

        The stored entry's children are kept. An entry deleted meanwhile stays deleted,
        keeping only what a replay reads of ``record`` (``False``).
        """
        visible = True
        # Most saves are a response's first: one conditional write, no read.
        if await self._store.write(_PREFIX + record.id, _fields(record), version=None) is not None:
            return True

        def merge(stored: Any) -> dict[str, Any]:
            nonlocal visible
            kept = _record(stored)
            merged = record
            if kept is not None:
                merged = replace(record, children=kept.children, deleted=kept.deleted)
            visible = not merged.deleted
            return _fields(_trimmed(merged) if merged.deleted else merged)

        await update_state(self._store, _PREFIX + record.id, merge)
        return visible

    async def get(self, response_id: str, partition: str | None) -> ResponseRecord | None:
        """The record of ``response_id`` if it is stored (and not deleted) in ``partition``."""
        record = await self.entry(response_id, partition)
        return None if record is None or record.deleted else record

    async def load(self, response_id: str) -> ResponseRecord | None:
        """The record of ``response_id`` in whatever partition (for the host's own upkeep)."""
        return _record(await self._store.get(_PREFIX + response_id))

    async def entry(self, response_id: str, partition: str | None) -> ResponseRecord | None:
        """The record of ``response_id`` in ``partition``, a deleted one that is kept too."""
        record = _record(await self._store.get(_PREFIX + response_id))
        return record if record is not None and record.partition == partition else None

    async def mark_deleted(self, response_id: str) -> None:
        """Keep the record as a deleted entry: gone for its callers, still replayed."""
        await self._change(response_id, lambda record: _trimmed(replace(record, deleted=True)))

    async def remove(self, response_id: str) -> None:
        """Remove the entry of ``response_id``."""
        await self._store.delete(_PREFIX + response_id)

    async def adopt(self, parent: str, child: str, partition: str | None) -> None:
        """Record that ``child`` follows ``parent`` (nothing when ``parent`` is gone)."""

        def add(record: ResponseRecord) -> ResponseRecord:
            if record.partition != partition or child in record.children:
                return record
            return replace(record, children=(*record.children, child))

        await self._change(parent, add)

    async def disown(self, parent: str, child: str, partition: str | None) -> ResponseRecord | None:
        """Record that ``child`` no longer follows ``parent``; the parent's entry, if any."""

        def drop(record: ResponseRecord) -> ResponseRecord:
            if record.partition != partition or child not in record.children:
                return record
            return replace(record, children=tuple(c for c in record.children if c != child))

        changed = await self._change(parent, drop)
        return changed if changed is not None and changed.partition == partition else None

    async def head(self, conversation: str) -> tuple[ConversationHead | None, int | None]:
        """The head of ``conversation`` (``None`` when unknown) and its version to claim it."""
        stored = await self._store.read(_HEAD_PREFIX + conversation)
        if stored is None:
            return None, None
        raw: Any = stored.value
        if not isinstance(raw, Mapping):  # given back to no head at all
            return None, stored.version
        fields = cast("Mapping[str, Any]", raw)
        head = ConversationHead(latest=fields["latest"], stored=fields.get("stored"))
        return head, stored.version

    async def claim_head(
        self, conversation: str, head: ConversationHead | None, *, version: int | None
    ) -> bool:
        """Move the head of ``conversation`` if it is still at ``version``; whether it moved."""
        value = None if head is None else {"latest": head.latest, "stored": head.stored}
        return (
            await self._store.write(_HEAD_PREFIX + conversation, value, version=version) is not None
        )

    async def set_head(self, conversation: str, head: ConversationHead | None) -> None:
        """Move the head of ``conversation``; ``None`` forgets it."""
        if head is None:
            await self._store.delete(_HEAD_PREFIX + conversation)
        else:
            value = {"latest": head.latest, "stored": head.stored}
            await self._store.set(_HEAD_PREFIX + conversation, value)

    async def _change(
        self, response_id: str, change: Callable[[ResponseRecord], ResponseRecord]
    ) -> ResponseRecord | None:
        """Apply ``change`` to the stored record of ``response_id``; the record after it."""
        result: ResponseRecord | None = None

        def apply(stored: Any) -> Any:
            nonlocal result
            record = result = _record(stored)
            if record is None:
                return stored
            result = change(record)
            return stored if result is record else _fields(result)

        await update_state(self._store, _PREFIX + response_id, apply)
        return result


def _record(raw: Any) -> ResponseRecord | None:
    if not isinstance(raw, Mapping):
        return None
    fields = cast("Mapping[str, Any]", raw)
    return ResponseRecord(
        conversation=fields["conversation"],
        partition=fields["partition"],
        response=fields["response"],
        input_items=fields["input_items"],
        parent=fields.get("parent"),
        children=tuple(fields.get("children", ())),
        deleted=fields.get("deleted", False),
    )


def _fields(record: ResponseRecord) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "conversation": record.conversation,
        "partition": record.partition,
        "response": record.response,
        "input_items": record.input_items,
        "parent": record.parent,
    }
    # Most records have neither: leaving them out keeps a stored response small.
    if record.children:
        fields["children"] = list(record.children)
    if record.deleted:
        fields["deleted"] = True
    return fields


def _trimmed(record: ResponseRecord) -> ResponseRecord:
    """``record`` with only the response fields a deleted entry keeps."""
    kept = {name: record.response[name] for name in _KEPT_WHEN_DELETED if name in record.response}
    return replace(record, response=kept)


def input_items(body_input: Any) -> list[dict[str, Any]]:
    """The request's input as listable items, each with an id (the input was validated)."""
    if isinstance(body_input, str):
        return [_message_item("user", [{"type": "input_text", "text": body_input}])]
    items: list[dict[str, Any]] = []
    for item in cast("list[dict[str, Any]]", body_input):
        if item.get("type") in ("function_call", "function_call_output"):
            item_id = item.get("id") or f"fc_{secrets.token_hex(24)}"
            items.append({**item, "id": item_id, "status": "completed"})
            continue
        if item.get("type") == "reasoning":
            items.append(_reasoning_item(item))
            continue
        if item.get("type") == "image_generation_call":
            items.append(_image_generation_item(item))
            continue
        if item.get("type") == "mcp_call":
            items.append(_mcp_call_item(item))
            continue
        if item.get("type") in BARE_PARTS:  # a content part standing alone: a user message
            items.append(_message_item("user", [item]))
            continue
        role: str = item["role"]
        content = item["content"]
        parts: list[dict[str, Any]] = (
            [{"type": "input_text", "text": content}] if isinstance(content, str) else content
        )
        items.append(_message_item(role, parts))
    return items


def _reasoning_item(item: dict[str, Any]) -> dict[str, Any]:
    """A reasoning item as listed: its id (or a new one), summary and encrypted content."""
    listed: dict[str, Any] = {
        "type": "reasoning",
        "id": item.get("id") or f"rs_{secrets.token_hex(24)}",
        "summary": [{"type": "summary_text", "text": part["text"]} for part in item["summary"]],
        "status": "completed",
    }
    if item.get("encrypted_content") is not None:
        listed["encrypted_content"] = item["encrypted_content"]
    return listed


def _mcp_call_item(item: dict[str, Any]) -> dict[str, Any]:
    """A hosted MCP call as listed: as a response's output holds it."""
    return {
        "type": "mcp_call",
        "id": item["id"],
        "status": item.get("status") or "completed",
        "server_label": item["server_label"],
        "name": item["name"],
        "arguments": item["arguments"],
        "output": item.get("output"),
        "error": item.get("error"),
    }


def _image_generation_item(item: dict[str, Any]) -> dict[str, Any]:
    """An image generation call as listed: its id, result and format."""
    listed: dict[str, Any] = {
        "type": "image_generation_call",
        "id": item["id"],
        "status": "completed",
        "result": item.get("result"),
    }
    if item.get("output_format") is not None:
        listed["output_format"] = item["output_format"]
    return listed


def _message_item(role: str, parts: list[dict[str, Any]]) -> dict[str, Any]:
    content: list[dict[str, Any]]
    if role == "assistant":
        content = [_output_part(part) for part in parts]
    else:
        content = [_input_part(part) for part in parts]
    return {
        "type": "message",
        "id": f"msg_{secrets.token_hex(24)}",
        "role": role,
        "status": "completed",
        "content": content,
    }


def _output_part(part: dict[str, Any]) -> dict[str, Any]:
    if part["type"] == "refusal":
        return {"type": "refusal", "refusal": part["refusal"]}
    return {"type": "output_text", "text": part.get("text", ""), "annotations": []}


def _input_part(part: dict[str, Any]) -> dict[str, Any]:
    if part["type"] == "input_image":
        return {
            "type": "input_image",
            "image_url": part["image_url"],
            "detail": part.get("detail") or "auto",
        }
    if part["type"] == "input_file":
        kept = ("filename", "file_data", "file_url", "detail")
        return {"type": "input_file", **{k: part[k] for k in kept if part.get(k) is not None}}
    return {"type": "input_text", "text": part.get("text", part.get("refusal", ""))}


def page_of(items: list[dict[str, Any]], query: Mapping[str, str]) -> dict[str, Any]:
    """One page of ``items`` per the ``after``/``limit``/``order`` query parameters."""
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise ResponsesError(
            "'order' must be 'asc' or 'desc'.", param="order", code="invalid_value"
        )
    limit_text = query.get("limit", "20")
    # ASCII digits only: int() also reads other scripts' digits (a full-width five).
    if not (limit_text.isascii() and limit_text.isdigit()) or not 1 <= int(limit_text) <= 100:
        raise ResponsesError(
            "'limit' must be an integer from 1 to 100.", param="limit", code="invalid_value"
        )
    ordered = items if order == "asc" else items[::-1]
    after = query.get("after")
    if after is not None:
        ids = [item["id"] for item in ordered]
        if after not in ids:
            raise ResponsesError(f"No item with id '{after}'.", param="after", code="invalid_value")
        ordered = ordered[ids.index(after) + 1 :]
    data = ordered[: int(limit_text)]
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": len(ordered) > len(data),
    }

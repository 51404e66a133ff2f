"""Agent contents → Responses output items, and the events that stream them.

One :class:`OutputBuilder` serves both paths. Fed a finished run's contents it assembles
the output items, and builds no events; fed streamed contents as they arrive it also
returns the events that announce, fill and close each item, one item at a time, in the
specification's order:

* ``text_reasoning`` → a ``reasoning`` item with one ``summary_text`` part
  (``response.reasoning_summary_part.*``, ``response.reasoning_summary_text.*``).
* ``text`` → an assistant ``message`` item: ``output_text`` parts, or ``refusal`` parts
  for text the framework marks as a refusal (``response.content_part.*``,
  ``response.output_text.*`` / ``response.refusal.*``).
* an image (``data`` content with an image media type, or the result of the framework's
  image generation tool) → an ``image_generation_call`` item with the base64 image as its
  ``result``: the only place the Responses format has for an image the model produced.
* a hosted MCP tool call the agent's service ran (``mcp_server_tool_call``, then its
  ``mcp_server_tool_result``) → an ``mcp_call`` item, announced with its arguments
  (``response.mcp_call.in_progress``) and done with its output
  (``response.mcp_call.completed``); a call whose result never came ends ``incomplete``.

Function calls and results end the open item; the calls the caller must answer are
listed after these items (see ``_render``). Raw reasoning text (the framework's
``reasoning_text`` mark), images by URL and other contents have no item here.

An item the agent stopped writing part way (its token limit, a failure, a cancellation)
closes ``incomplete``, with what it holds.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, cast

from agent_framework import AgentResponse, Content
from agent_framework_hosting import encode_json

__all__ = [
    "IMAGE_FORMATS",
    "Event",
    "Item",
    "ItemStatus",
    "McpCall",
    "OutputBuilder",
    "calls_answered",
    "end_incomplete",
    "item_events",
    "items_of",
    "matched",
    "new_item_id",
    "refusal_content",
    "wire",
]

Event = tuple[str, dict[str, Any]]
"""A stream event's ``type`` and its fields (the writer adds ``sequence_number``)."""

PartKind = Literal["output_text", "refusal", "summary_text"]
ItemKind = Literal["reasoning", "message", "image_generation_call", "mcp_call"]
ItemStatus = Literal["in_progress", "completed", "incomplete"]

_ID_PREFIX: dict[ItemKind, str] = {
    "reasoning": "rs",
    "message": "msg",
    "image_generation_call": "ig",
    "mcp_call": "mcp",
}
_OUTPUT_KIND = "model_output_kind"
_REASONING_TEXT = "reasoning_text"
_CAN_BE_INCOMPLETE = frozenset({"reasoning", "message", "function_call"})
"""Output item types whose status may be ``incomplete`` (an image is whole or absent)."""
IMAGE_FORMATS = {
    "image/png": "png",
    "image/jpeg": "jpeg",
    "image/webp": "webp",
    "image/gif": "gif",
}
"""Image media types → an ``image_generation_call``'s ``output_format``."""


@dataclass(slots=True)
class Part:
    """A text part of an item: a message's ``output_text``/``refusal``, a reasoning summary."""

    kind: PartKind
    text: str = ""


@dataclass(frozen=True, slots=True)
class Image:
    """An image the agent produced: base64 data and its media type."""

    data: str
    media_type: str


@dataclass(slots=True)
class McpCall:
    """A hosted MCP tool call: what the agent's service called, and its output once done."""

    call_id: str
    name: str
    server_label: str
    arguments: str
    output: str | None = None
    done: bool = False


@dataclass(slots=True)
class Item:
    """One output item being built.

    Attributes:
        kind: The item's wire type.
        id: The item's wire id.
        parts: A message's content parts, or a reasoning item's summary part.
        image: An image item's image.
        call: An ``mcp_call`` item's call.
        group: What the item's contents came from (a reasoning id, a message id): contents
            of another group start a new item.

    """

    kind: ItemKind
    id: str
    parts: list[Part] = field(default_factory=list[Part])
    image: Image | None = None
    call: McpCall | None = None
    group: str | None = None


@dataclass(frozen=True, slots=True)
class _Piece:
    """What one content adds: text, an image, an MCP call or result, or the open item's end."""

    kind: PartKind | Literal["image", "mcp_call", "mcp_result", "break"]
    text: str = ""
    replace: bool = False
    group: str | None = None
    image: Image | None = None
    call: McpCall | None = None


def new_item_id(kind: ItemKind) -> str:
    """A fresh id for an item of ``kind``: ``rs_``, ``msg_``, ``ig_`` or ``mcp_`` and 48 hex."""
    return f"{_ID_PREFIX[kind]}_{secrets.token_hex(24)}"


class OutputBuilder:
    """Builds output items from contents in order, and the events that stream them.

    Args:
        streaming: The contents are streamed pieces, and each call returns the events that
            stream them: a ``replace`` piece replaces the open part's text instead of
            extending it. A finished run's contents are whole, and make no events.

    """

    def __init__(self, *, streaming: bool) -> None:
        self._streaming = streaming
        self.items: list[Item] = []
        self._open: Item | None = None
        self._mcp_calls: dict[str, Item] = {}

    def add(
        self, content: Content, *, source: str | None = None, role: str | None = None
    ) -> list[Event]:
        """Add one content of a message (``source``: its id, ``role``: its role).

        Of a tool message only a function result (it ends the open item) and a hosted MCP
        call's result count.
        """
        piece = _piece(content, source)
        if piece is None or (role == "tool" and piece.kind not in ("break", "mcp_result")):
            return []
        if piece.kind == "break":
            return self.close()
        if piece.kind == "mcp_call" or piece.kind == "mcp_result":
            return self._add_mcp(piece.kind == "mcp_call", cast("McpCall", piece.call))
        if piece.kind == "image":
            events = self.close()
            item = self._append(Item("image_generation_call", new_item_id("image_generation_call")))
            item.image = piece.image
            if self._streaming:
                events.extend(item_events(item, self.index_of(item)))
            return events
        if piece.kind == "summary_text":
            return self._add_text(piece, piece.kind, "reasoning")
        return self._add_text(piece, piece.kind, "message")

    def close(self, final: Item | None = None, *, status: ItemStatus = "completed") -> list[Event]:
        """Close the open item, with the text of ``final`` when that has the same parts."""
        item, self._open = self._open, None
        if item is None or not self._streaming:
            return []
        if final is not None and [p.kind for p in final.parts] == [p.kind for p in item.parts]:
            item.parts = [replace(part) for part in final.parts]
        index = self.index_of(item)
        return [*_part_closed(item, index, len(item.parts) - 1), _item_done(item, index, status)]

    def complete_call(self, item: Item, output: str | None) -> list[Event]:
        """Give the ``mcp_call`` ``item`` its output: it is done."""
        call = cast("McpCall", item.call)
        call.output, call.done = output, True
        if not self._streaming:
            return []
        index = self.index_of(item)
        at = {"item_id": item.id, "output_index": index}
        return [("response.mcp_call.completed", at), _item_done(item, index)]

    def end_pending_calls(self) -> list[Event]:
        """Close the ``mcp_call`` items whose result never came, ``incomplete``."""
        if not self._streaming:
            return []
        return [
            _item_done(item, self.index_of(item), "incomplete")
            for item in self._mcp_calls.values()
            if item.call is not None and not item.call.done
        ]

    @property
    def open(self) -> Item | None:
        """The item still being streamed, if any."""
        return self._open

    def index_of(self, item: Item) -> int:
        """The ``output_index`` of ``item``."""
        return self.items.index(item)

    def _append(self, item: Item) -> Item:
        self.items.append(item)
        return item

    def _add_mcp(self, is_call: bool, call: McpCall) -> list[Event]:
        """A hosted MCP call (announced) or its result (done); repeats fill in, never add."""
        events = self.close()
        known = self._mcp_calls.get(call.call_id)
        if not is_call:
            if known is None or known.call is None or known.call.done:
                return events  # a result of no call seen, or seen twice
            return [*events, *self.complete_call(known, call.output)]
        if known is not None:
            if known.call is not None and not known.call.arguments:
                known.call.arguments = call.arguments
            return events
        item = self._append(Item("mcp_call", new_item_id("mcp_call"), call=call))
        self._mcp_calls[call.call_id] = item
        if self._streaming:
            index = self.index_of(item)
            at = {"item_id": item.id, "output_index": index}
            events.extend([_item_added(item, index), ("response.mcp_call.in_progress", at)])
        return events

    def _add_text(self, piece: _Piece, part_kind: PartKind, kind: ItemKind) -> list[Event]:
        streaming = self._streaming  # a finished run's items are read, never its events
        events: list[Event] = []
        item = self._open
        if item is None or item.kind != kind or _other_group(item.group, piece.group):
            events.extend(self.close())
            item = self._open = self._append(Item(kind, new_item_id(kind), group=piece.group))
            if streaming:
                events.append(_item_added(item, self.index_of(item)))
        last = len(item.parts) - 1
        if last < 0 or item.parts[last].kind != part_kind:
            item.parts.append(Part(part_kind))
            if streaming:
                index = self.index_of(item)
                events.extend(_part_closed(item, index, last))
                events.append(_part_added(item, index, last + 1))
        part = item.parts[-1]
        if not streaming:
            part.text += piece.text
            return events
        delta = piece.text
        if piece.replace:
            delta = piece.text[len(part.text) :] if piece.text.startswith(part.text) else ""
            part.text = piece.text
        else:
            part.text += delta
        if delta:
            events.append(_delta(item, self.index_of(item), len(item.parts) - 1, delta))
        return events


def items_of(result: AgentResponse) -> list[Item]:
    """The output items of a finished run's assistant messages."""
    builder = OutputBuilder(streaming=False)
    for message in result.messages:
        for content in message.contents:
            builder.add(content, source=message.message_id, role=message.role)
    builder.close()
    return builder.items


def matched(streamed: list[Item], final: list[Item]) -> list[Item | None]:
    """For each final item, the streamed item of its kind at the same position among its kind."""
    by_kind: dict[str, list[Item]] = {}
    for item in streamed:
        by_kind.setdefault(item.kind, []).append(item)
    seen: dict[str, int] = {}
    pairs: list[Item | None] = []
    for item in final:
        position = seen.get(item.kind, 0)
        seen[item.kind] = position + 1
        candidates = by_kind.get(item.kind, [])
        pairs.append(candidates[position] if position < len(candidates) else None)
    return pairs


def wire(item: Item, *, status: ItemStatus) -> dict[str, Any]:
    """The wire object of ``item`` (``in_progress`` items carry no content yet)."""
    done = status != "in_progress"
    if item.kind == "reasoning":
        summary = [_part_wire(part) for part in item.parts] if done else []
        return {"type": "reasoning", "id": item.id, "summary": summary, "status": status}
    if item.kind == "message":
        content = [_part_wire(part) for part in item.parts] if done else []
        return {
            "type": "message",
            "id": item.id,
            "status": status,
            "role": "assistant",
            "content": content,
        }
    if item.call is not None:
        return _mcp_call_wire(item, item.call, status)
    image = item.image
    fields: dict[str, Any] = {
        "type": "image_generation_call",
        "id": item.id,
        "status": status,
        "result": image.data if done and image is not None else None,
    }
    if image is not None and image.media_type in IMAGE_FORMATS:
        fields["output_format"] = IMAGE_FORMATS[image.media_type]
    return fields


def _mcp_call_wire(item: Item, call: McpCall, status: ItemStatus) -> dict[str, Any]:
    """An ``mcp_call`` item: ``incomplete`` when its result never came, once it is over."""
    if status == "completed" and not call.done:
        status = "incomplete"
    return {
        "type": "mcp_call",
        "id": item.id,
        "status": status,
        "server_label": call.server_label,
        "name": call.name,
        "arguments": call.arguments,
        "output": call.output if call.done else None,
        "error": None,
    }


def item_events(item: Item, index: int) -> list[Event]:
    """Every event of a finished item, from its announcement to its end.

    Its text comes whole in the closing events, without deltas: deltas carry only what
    the agent streamed (and the stream hook let through).
    """
    at = {"item_id": item.id, "output_index": index}
    if item.kind == "image_generation_call":
        return [
            _item_added(item, index),
            ("response.image_generation_call.in_progress", at),
            ("response.image_generation_call.completed", at),
            _item_done(item, index),
        ]
    if item.call is not None:
        added = [_item_added(item, index), ("response.mcp_call.in_progress", at)]
        if not item.call.done:
            return [*added, _item_done(item, index, "incomplete")]
        return [*added, ("response.mcp_call.completed", at), _item_done(item, index)]
    events = [_item_added(item, index)]
    for part_index in range(len(item.parts)):
        events.append(_part_added(item, index, part_index))
        events.extend(_part_closed(item, index, part_index))
    events.append(_item_done(item, index))
    return events


def _part_wire(part: Part) -> dict[str, Any]:
    if part.kind == "refusal":
        return {"type": "refusal", "refusal": part.text}
    if part.kind == "summary_text":
        return {"type": "summary_text", "text": part.text}
    return {"type": "output_text", "text": part.text, "annotations": [], "logprobs": []}


def _item_added(item: Item, index: int) -> Event:
    return "response.output_item.added", {
        "output_index": index,
        "item": wire(item, status="in_progress"),
    }


def _item_done(item: Item, index: int, status: ItemStatus = "completed") -> Event:
    return "response.output_item.done", {"output_index": index, "item": wire(item, status=status)}


def end_incomplete(output: list[dict[str, Any]], events: list[Event] | None = None) -> None:
    """Mark the last output item ``incomplete``: the one the agent was writing at its limit.

    With ``events`` (a stream's closing events), only when they close it, in the closing
    event too: an item the stream already closed stays as it was sent. An image is never
    incomplete.
    """
    if not output or output[-1]["type"] not in _CAN_BE_INCOMPLETE:
        return
    last = {**output[-1], "status": "incomplete"}
    if events is None:
        output[-1] = last
        return
    for position in range(len(events) - 1, -1, -1):
        kind, fields = events[position]
        if kind == "response.output_item.done" and fields["item"]["id"] == last["id"]:
            output[-1] = last
            events[position] = (kind, {**fields, "item": last})
            return


def _at(item: Item, index: int, part_index: int) -> dict[str, Any]:
    position = "summary_index" if item.kind == "reasoning" else "content_index"
    return {"item_id": item.id, "output_index": index, position: part_index}


def _part_added(item: Item, index: int, part_index: int) -> Event:
    kind = "response.reasoning_summary_part.added"
    if item.kind == "message":
        kind = "response.content_part.added"
    empty = Part(item.parts[part_index].kind)
    return kind, {**_at(item, index, part_index), "part": _part_wire(empty)}


def _delta(item: Item, index: int, part_index: int, delta: str) -> Event:
    kind = item.parts[part_index].kind
    if kind == "summary_text":
        return "response.reasoning_summary_text.delta", {
            "item_id": item.id,
            "output_index": index,
            "summary_index": part_index,
            "delta": delta,
        }
    at: dict[str, Any] = {
        "item_id": item.id,
        "output_index": index,
        "content_index": part_index,
        "delta": delta,
    }
    if kind == "refusal":
        return "response.refusal.delta", at
    at["logprobs"] = []
    return "response.output_text.delta", at


def _part_closed(item: Item, index: int, part_index: int) -> list[Event]:
    """The events that end a part: its text is done, then the part is."""
    if part_index < 0:
        return []
    part = item.parts[part_index]
    at = _at(item, index, part_index)
    if part.kind == "summary_text":
        text_done: Event = ("response.reasoning_summary_text.done", {**at, "text": part.text})
        part_done = "response.reasoning_summary_part.done"
    elif part.kind == "refusal":
        text_done = ("response.refusal.done", {**at, "refusal": part.text})
        part_done = "response.content_part.done"
    else:
        text_done = ("response.output_text.done", {**at, "text": part.text, "logprobs": []})
        part_done = "response.content_part.done"
    return [text_done, (part_done, {**at, "part": _part_wire(part)})]


def _other_group(current: str | None, incoming: str | None) -> bool:
    return current is not None and incoming is not None and current != incoming


def _piece(content: Content, source: str | None) -> _Piece | None:
    """What ``content`` adds to the output, or ``None`` when it has no place there."""
    kind = content.type
    properties: Mapping[str, Any] = content.additional_properties or {}
    # Older framework versions have no merge modes: every piece extends.
    replaces = getattr(content, "merge_mode", None) == "replace"
    if kind == "text":
        if not content.text:
            return None
        part: PartKind = "refusal" if _is_refusal(properties) else "output_text"
        return _Piece(part, content.text, replaces, source)
    if kind == "text_reasoning":
        if not content.text or _is_raw_reasoning(properties):
            return None
        return _Piece("summary_text", content.text, replaces, content.id or source)
    if kind in ("function_call", "function_result"):
        return _Piece("break")
    if kind in ("mcp_server_tool_call", "mcp_server_tool_result") and content.call_id:
        is_call = kind == "mcp_server_tool_call"
        return _Piece("mcp_call" if is_call else "mcp_result", call=_mcp_call(content))
    image = _image(content)
    return _Piece("image", image=image) if image is not None else None


def _mcp_call(content: Content) -> McpCall:
    """The call (or, from a result, the output) a hosted MCP content holds."""
    call_id = cast("str", content.call_id)
    if content.type == "mcp_server_tool_result":
        return McpCall(call_id, "", "", "", output=_mcp_output(content.output), done=True)
    arguments: object = content.arguments
    if arguments is None:
        text = ""
    elif isinstance(arguments, str):
        text = arguments
    else:
        text = encode_json(arguments).decode()
    return McpCall(call_id, content.tool_name or "", content.server_name or "", text)


def _mcp_output(output: object) -> str | None:
    """A hosted MCP result's output as text: text contents joined, anything else as JSON."""
    if output is None or isinstance(output, str):
        return output
    if isinstance(output, Content):
        output = [output]
    if isinstance(output, list):
        parts = cast("list[object]", output)
        if all(isinstance(part, Content) and part.type == "text" for part in parts):
            return "".join(cast("Content", part).text or "" for part in parts)
        parts = [part.to_dict() if isinstance(part, Content) else part for part in parts]
        return encode_json(parts).decode()
    return encode_json(output).decode()


def _image(content: Content) -> Image | None:
    """The image a ``data`` content or an image generation result holds, if complete."""
    if content.type == "image_generation_tool_result":
        outputs: object = getattr(content, "outputs", None)
        candidates = cast("list[object]", outputs) if isinstance(outputs, list) else [outputs]
        images = [_image(c) for c in candidates if isinstance(c, Content)]
        return next((image for image in images if image is not None), None)
    if content.type != "data" or (content.additional_properties or {}).get("is_partial_image"):
        return None
    header, _, data = (content.uri or "").partition(",")
    media_type = header.removeprefix("data:").split(";", 1)[0]
    if not media_type.startswith("image/") or ";base64" not in header or not data:
        return None
    return Image(data, media_type)


def refusal_content(text: str) -> Content:
    """A text the framework reads as a refusal (marked now namespaced, and flat as before)."""
    marks: dict[str, Any] = {"core": {_OUTPUT_KIND: "refusal"}, _OUTPUT_KIND: "refusal"}
    return Content.from_text(text, additional_properties=marks)


def _is_refusal(properties: Mapping[str, Any]) -> bool:
    """Whether the framework marks a text as a refusal (now namespaced, formerly flat)."""
    core: object = properties.get("core")
    if isinstance(core, Mapping) and cast("Mapping[str, Any]", core).get(_OUTPUT_KIND):
        return cast("Mapping[str, Any]", core)[_OUTPUT_KIND] == "refusal"
    return properties.get(_OUTPUT_KIND) == "refusal"


def _is_raw_reasoning(properties: Mapping[str, Any]) -> bool:
    """Whether the framework marks reasoning as the raw trace rather than a summary."""
    namespaced: object = properties.get("openai")
    return _REASONING_TEXT in properties or (
        isinstance(namespaced, Mapping) and _REASONING_TEXT in cast("Mapping[str, Any]", namespaced)
    )


def calls_answered(contents: Iterable[Content]) -> set[str]:
    """The call ids the run answered itself: its own tools' results."""
    return {c.call_id for c in contents if c.type == "function_result" and c.call_id}

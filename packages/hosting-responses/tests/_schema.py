"""Validation against the Open Responses OpenAPI document (skipped when it is absent).

The spec leaves some items to providers ("items are extensible"): an
``image_generation_call`` item, which the channel uses for images the agent produced, and
its events are checked against the ``openai`` SDK's model of them (the shape OpenAI
clients read), and everything around them against the spec.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, cast

import jsonschema
import pytest
from openai import BaseModel
from openai.types.responses import (
    ResponseImageGenCallCompletedEvent,
    ResponseImageGenCallInProgressEvent,
)
from openai.types.responses.response_output_item import ImageGenerationCall

SPEC = (
    Path(__file__).resolve().parents[3].parent / "shared" / "specs" / "openresponses-openapi.json"
)


@cache
def _components() -> dict[str, Any]:
    if not SPEC.exists():
        pytest.skip(f"Open Responses spec not found at {SPEC}")
    return json.loads(SPEC.read_text())["components"]


@cache
def _event_schemas() -> dict[str, str]:
    """Stream event ``type`` → schema name."""
    names: dict[str, str] = {}
    for name, schema in _components()["schemas"].items():
        enum = schema.get("properties", {}).get("type", {}).get("enum")
        if name.endswith("StreamingEvent") and enum and len(enum) == 1:
            names[enum[0]] = name
    return names


_PROVIDER_ITEMS: dict[str, type[BaseModel]] = {"image_generation_call": ImageGenerationCall}
_PROVIDER_EVENTS: dict[str, type[BaseModel]] = {
    "response.image_generation_call.in_progress": ResponseImageGenCallInProgressEvent,
    "response.image_generation_call.completed": ResponseImageGenCallCompletedEvent,
}


def _validate_provider(instance: Any, model: type[BaseModel]) -> None:
    jsonschema.validate(instance, model.model_json_schema())


def _is_provider_item(value: Any) -> bool:
    return isinstance(value, dict) and cast("dict[str, Any]", value).get("type") in _PROVIDER_ITEMS


def _spec_view(instance: Any) -> Any:
    """``instance`` with its provider items checked and taken out, for the spec to check.

    A nullable ``item`` becomes ``null``; a list leaves them out.
    """
    if isinstance(instance, list):
        kept: list[Any] = []
        for value in cast("list[Any]", instance):
            if _is_provider_item(value):
                _validate_provider(value, _PROVIDER_ITEMS[value["type"]])
            else:
                kept.append(_spec_view(value))
        return kept
    if isinstance(instance, dict):
        view: dict[str, Any] = {}
        for key, value in cast("dict[str, Any]", instance).items():
            if key == "item" and _is_provider_item(value):
                _validate_provider(value, _PROVIDER_ITEMS[value["type"]])
                view[key] = None
            else:
                view[key] = _spec_view(value)
        return view
    return instance


def validate(instance: Any, schema_name: str) -> None:
    """Raise if ``instance`` does not satisfy ``#/components/schemas/<schema_name>``."""
    root = {"$ref": f"#/components/schemas/{schema_name}", "components": _components()}
    jsonschema.validate(_spec_view(instance), root)


def validate_response(instance: Any) -> None:
    """A Response object."""
    validate(instance, "ResponseResource")


def validate_event(event: dict[str, Any]) -> None:
    """A streaming event, by its ``type``."""
    if event["type"] in _PROVIDER_EVENTS:
        _validate_provider(event, _PROVIDER_EVENTS[event["type"]])
    else:
        validate(event, _event_schemas()[event["type"]])


def validate_ws_message(message: dict[str, Any]) -> None:
    """A server message of the WebSocket transport: a stream event or an error envelope.

    The ``error`` event of a failed run is both: it carries a ``sequence_number`` and the
    envelope's ``status``.
    """
    if "status" in message:
        validate(message, "WebSocketErrorEvent")
    if "sequence_number" in message or "status" not in message:
        validate_event(message)


def validate_item(item: Any) -> None:
    """An item of a response's output, of its input items, or of a conversation."""
    if _is_provider_item(item):
        _validate_provider(item, _PROVIDER_ITEMS[item["type"]])
    else:
        validate(item, "ItemField")


def validate_body(body: Any) -> None:
    """Any JSON body the channel answers with, by its shape.

    Conversation objects and deletion receipts have no schema in the spec; the SDK's
    strict validation checks them.
    """
    if body.get("object") == "response" and "deleted" not in body:
        validate_response(body)
    elif body.get("object") == "response.compaction":
        validate(body, "CompactResource")
    elif "error" in body:
        validate(body["error"], "ErrorPayload")
    elif body.get("object") == "list":
        for item in body["data"]:
            validate_item(item)
    elif "object" not in body:
        validate_item(body)


def sse_event(block: str) -> dict[str, Any] | None:
    """The validated JSON event of one SSE block (``None`` for a comment or ``[DONE]``)."""
    if block.startswith(":") or block == "data: [DONE]":
        return None
    lines = block.split("\n")
    assert lines[0].startswith("event: "), block
    assert lines[1].startswith("data: "), block
    event = json.loads(lines[1][len("data: ") :])
    assert event["type"] == lines[0][len("event: ") :]
    validate_event(event)
    return event


def sse_events(text: str) -> list[dict[str, Any]]:
    """The validated JSON events of a stream, checking its framing and its ``[DONE]`` end."""
    blocks = [block for block in text.split("\n\n") if block and not block.startswith(":")]
    assert blocks[-1] == "data: [DONE]"
    events = [sse_event(block) for block in blocks[:-1]]
    assert None not in events
    return cast("list[dict[str, Any]]", events)


class SSEChecker:
    """Validates the events of a stream as its bytes arrive, in chunks of any size."""

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, chunk: bytes) -> None:
        """Take the next bytes; every block they complete is checked."""
        self._pending += chunk
        *blocks, self._pending = self._pending.split(b"\n\n")
        for block in blocks:
            if block:
                sse_event(block.decode())

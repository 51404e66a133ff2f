"""Validation against the channel's own OpenAPI document (``openapi.json`` in the package).

Every object and event the tests read is checked against the schema the channel
publishes for it, so the document and the server cannot drift apart. The document
closes every object (no field it does not name), so a field added to the wire without
the document, or dropped from it, fails the tests that read it.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any, cast

from jsonschema import Draft202012Validator


@cache
def _packaged() -> str:
    return files("agent_framework_hosting_responses").joinpath("openapi.json").read_text("utf-8")


def document() -> dict[str, Any]:
    """The OpenAPI document as the package ships it: a fresh copy, for callers to keep."""
    return json.loads(_packaged())


@cache
def _validator(schema_name: str) -> Draft202012Validator:
    components = document()["components"]
    return Draft202012Validator(
        {"$ref": f"#/components/schemas/{schema_name}", "components": components}
    )


@cache
def _event_schemas() -> dict[str, str]:
    """Stream event ``type`` → schema name, from the document's event union."""
    mapping = document()["components"]["schemas"]["ResponseStreamEvent"]["discriminator"]
    return {kind: ref.rpartition("/")[2] for kind, ref in mapping["mapping"].items()}


def validate(instance: Any, schema_name: str) -> None:
    """Raise if ``instance`` does not satisfy ``#/components/schemas/<schema_name>``."""
    _validator(schema_name).validate(instance)


def validate_response(instance: Any) -> None:
    """A Response object."""
    validate(instance, "Response")


def validate_event(event: dict[str, Any]) -> None:
    """A streaming event, by its ``type``."""
    validate(event, _event_schemas()[event["type"]])


def validate_ws_message(message: dict[str, Any]) -> None:
    """A server message of the WebSocket transport: a stream event or an error envelope.

    The ``error`` event of a failed run is an event: it carries a ``sequence_number`` (and
    the envelope's ``status``).
    """
    if "sequence_number" in message:
        validate_event(message)
    else:
        validate(message, "WebSocketError")


def validate_item(item: Any) -> None:
    """An item of a response's output, of its input items, or of a conversation."""
    validate(item, "Item")


_BY_OBJECT = {
    "response.compaction": "Compaction",
    "list": "ItemList",
    "conversation": "Conversation",
    "conversation.deleted": "ConversationDeleted",
}


def validate_body(body: Any) -> None:
    """Any JSON body the channel answers with, by its shape."""
    if "openapi" in body:
        return  # the document itself
    if body.get("object") == "response":
        validate(body, "ResponseDeleted" if "deleted" in body else "Response")
    elif "object" in body:
        validate(body, _BY_OBJECT[body["object"]])
    elif "error" in body:
        validate(body, "Error")
    else:
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

"""A workflow's pending requests asked through MCP elicitation; the answers as function results.

A request's answer has the JSON schema its call names (``RESPONSE_SCHEMA_PROPERTY``).
An object of primitive fields is asked as that form; anything else as a form of one
field, ``answer``: the value itself when it is a primitive, else its JSON as text.
"""

from __future__ import annotations

import json
from typing import Any, cast

from agent_framework import Content, Message
from agent_framework_hosting import RESPONSE_SCHEMA_PROPERTY
from mcp.server.session import ServerSession
from mcp.shared.exceptions import MCPError
from mcp_types import ClientCapabilities, ElicitationCapability, RequestId
from pydantic import ValidationError

__all__ = ["Declined", "ask", "can_elicit", "describe_calls"]

_PRIMITIVES = {"string", "number", "integer", "boolean"}


class Declined(Exception):
    """The person declined (or cancelled) answering a request, or the client failed to ask."""


def can_elicit(session: ServerSession) -> bool:
    """Whether the client answers elicitation requests (form mode)."""
    return session.check_client_capability(ClientCapabilities(elicitation=ElicitationCapability()))


def describe_calls(calls: list[Content]) -> str:
    """The pending requests as a caller reads them: call id, kind, and what they hold."""
    return "; ".join(f"{call.call_id} ({call.name}): {call.arguments}" for call in calls)


async def ask(session: ServerSession, calls: list[Content], request_id: RequestId) -> Message:
    """Ask the client for each call's answer, on the call's own stream; the answers.

    Raises:
        Declined: The person declined or cancelled a question.

    """
    results: list[Content] = []
    for call in calls:
        form, unwrap = _form(call)
        try:
            reply = await session.elicit_form(
                f"{call.name}: {call.arguments}", cast("Any", form), related_request_id=request_id
            )
        except (MCPError, ValidationError):  # the client answered with an error, or nonsense
            raise Declined(str(call.call_id)) from None
        if reply.action != "accept" or reply.content is None:
            raise Declined(str(call.call_id))
        answer: Any = dict(reply.content)
        if unwrap:
            answer = answer.get("answer")
        results.append(Content.from_function_result(call_id=str(call.call_id), result=answer))
    return Message("tool", results)


def _form(call: Content) -> tuple[dict[str, Any], bool]:
    """The elicitation's requested schema, and whether the answer is its one field."""
    schema: Any = (call.additional_properties or {}).get(RESPONSE_SCHEMA_PROPERTY) or {}
    if not isinstance(schema, dict):
        schema = {}
    schema = cast("dict[str, Any]", schema)
    properties: Any = schema.get("properties")
    if schema.get("type") == "object" and isinstance(properties, dict) and properties:
        fields = cast("dict[str, Any]", properties)
        if all(_primitive(field) for field in fields.values()):
            form = {"type": "object", "properties": fields}
            if isinstance(schema.get("required"), list):
                form["required"] = schema["required"]
            return form, False
    if _primitive(schema):
        field = {key: value for key, value in schema.items() if key != "title"}
    else:
        field = {
            "type": "string",
            "description": f"The answer as JSON, of this schema: {json.dumps(schema)}",
        }
    field["title"] = "Answer"
    return {"type": "object", "properties": {"answer": field}, "required": ["answer"]}, True


def _primitive(field: Any) -> bool:
    return isinstance(field, dict) and cast("dict[str, Any]", field).get("type") in _PRIMITIVES

"""A call of the agent tool (its arguments) → the turn's input messages."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from agent_framework import Content, Message
from agent_framework_hosting import data_content

__all__ = [
    "MAX_ATTACHMENTS",
    "MAX_CONVERSATION_ID_CHARS",
    "ToolInput",
    "ToolInputError",
    "agent_tool_schema",
    "parse_tool_input",
]

MAX_ATTACHMENTS = 16
"""The most files one call may attach."""
MAX_CONVERSATION_ID_CHARS = 256
"""The longest ``conversation_id`` a caller may name."""


class ToolInputError(ValueError):
    """The arguments of a call cannot be a turn; answered as the tool's error."""


@dataclass(frozen=True, slots=True)
class ToolInput:
    """A call's arguments, checked: the turn's messages and the conversation they belong to."""

    messages: list[Message]
    conversation_id: str | None


def agent_tool_schema() -> dict[str, Any]:
    """The input schema of the agent tool."""
    return {
        "type": "object",
        "properties": {
            "message": {"type": "string", "minLength": 1, "description": "What to say."},
            "attachments": {
                "type": "array",
                "maxItems": MAX_ATTACHMENTS,
                "description": "Files for the agent (images, documents), base64-encoded.",
                "items": {
                    "type": "object",
                    "properties": {
                        "data": {"type": "string", "contentEncoding": "base64"},
                        "mimeType": {"type": "string", "minLength": 1},
                        "name": {"type": "string"},
                    },
                    "required": ["data", "mimeType"],
                    "additionalProperties": False,
                },
            },
            "conversation_id": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_CONVERSATION_ID_CHARS,
                "description": (
                    "Continue this conversation instead of the one of the MCP session; "
                    "any name of yours, kept apart from every other caller's."
                ),
            },
            "answers": {
                "type": "object",
                "description": (
                    "Answers to the questions a workflow is waiting for, by their call id "
                    "(for clients that cannot answer them through elicitation)."
                ),
            },
        },
        "additionalProperties": False,
    }


def parse_tool_input(arguments: Mapping[str, Any] | None) -> ToolInput:
    """The turn a call of the agent tool asks for.

    Raises:
        ToolInputError: The arguments are not what the tool's input schema describes.

    """
    given = dict(arguments or {})
    unknown = sorted(set(given) - {"message", "attachments", "conversation_id", "answers"})
    if unknown:
        raise ToolInputError(f"Unknown argument {unknown[0]!r}.")
    conversation_id = _conversation_id(given.get("conversation_id"))
    answers = given.get("answers")
    if answers is not None:
        if "message" in given or "attachments" in given:
            raise ToolInputError("Send answers in a call of their own, without a message.")
        return ToolInput([_answers(answers)], conversation_id)
    message = given.get("message")
    if not isinstance(message, str) or not message.strip():
        raise ToolInputError("'message' must be a non-empty string.")
    contents = [Content.from_text(message), *_attachments(given.get("attachments"))]
    return ToolInput([Message("user", contents)], conversation_id)


def _conversation_id(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_CONVERSATION_ID_CHARS:
        raise ToolInputError(
            f"'conversation_id' must be a string of 1 to {MAX_CONVERSATION_ID_CHARS} characters."
        )
    return value


def _answers(value: Any) -> Message:
    if not isinstance(value, dict) or not value:
        raise ToolInputError("'answers' must be an object of answers by call id.")
    answers = cast("dict[str, Any]", value)
    return Message(
        "tool",
        [
            Content.from_function_result(call_id=call_id, result=answer)
            for call_id, answer in answers.items()
        ],
    )


def _attachments(value: Any) -> list[Content]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ToolInputError("'attachments' must be an array of files.")
    files = cast("list[Any]", value)
    if len(files) > MAX_ATTACHMENTS:
        raise ToolInputError(f"At most {MAX_ATTACHMENTS} attachments per call.")
    return [_attachment(index, item) for index, item in enumerate(files)]


def _attachment(index: int, item: Any) -> Content:
    where = f"attachments[{index}]"
    if not isinstance(item, dict):
        raise ToolInputError(f"{where} must be an object with 'data' and 'mimeType'.")
    fields = cast("dict[str, Any]", item)
    unknown = sorted(set(fields) - {"data", "mimeType", "name"})
    if unknown:
        raise ToolInputError(f"{where} has an unknown field {unknown[0]!r}.")
    data, media_type, name = fields.get("data"), fields.get("mimeType"), fields.get("name")
    if not isinstance(media_type, str) or "/" not in media_type:
        raise ToolInputError(f"{where}.mimeType must be a media type such as 'image/png'.")
    if name is not None and not isinstance(name, str):
        raise ToolInputError(f"{where}.name must be a string.")
    if not isinstance(data, str):
        raise ToolInputError(f"{where}.data must be a base64 string.")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ToolInputError(f"{where}.data is not valid base64.") from None
    return data_content(raw, media_type, name=name)

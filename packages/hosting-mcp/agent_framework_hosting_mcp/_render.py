"""A run's result → the tool's result: text, images and audio, structured content."""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Sequence
from typing import Any, cast

from agent_framework import AgentResponse, AgentResponseUpdate, Content
from mcp_types import AudioContent, CallToolResult, ContentBlock, ImageContent, TextContent
from pydantic import BaseModel

__all__ = ["error_result", "pending_calls", "streamed_text", "tool_result"]

logger = logging.getLogger("agent_framework.hosting.mcp")


def tool_result(responses: Sequence[AgentResponse]) -> CallToolResult:
    """The result of a call whose turn ran as ``responses`` (several when a workflow asked).

    Text is joined into one text block; images and audio the agent produced as data
    follow as their own blocks; structured output (a response format's value) is the
    result's structured content.
    """
    text = "\n\n".join(response.text for response in responses if response.text)
    blocks: list[ContentBlock] = [TextContent(type="text", text=text)]
    for response in responses:
        for message in response.messages:
            blocks.extend(block for c in message.contents if (block := _media(c)) is not None)
    return CallToolResult(
        content=blocks,
        structured_content=_structured(responses[-1]) if responses else None,
        is_error=False,
    )


def error_result(message: str) -> CallToolResult:
    """A tool error the caller (and its model) reads: what went wrong, and what to do."""
    return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)


def pending_calls(response: AgentResponse) -> list[Content]:
    """The calls a run left unanswered: a workflow's requests waiting for input.

    The calls of an agent's own tools are answered within the run, by their results.
    """
    contents = [c for m in response.messages for c in m.contents]
    answered = {c.call_id for c in contents if c.type == "function_result"}
    return [c for c in contents if c.type == "function_call" and c.call_id not in answered]


def streamed_text(update: AgentResponseUpdate) -> str:
    """The text an update adds to the reply (reasoning is not the reply)."""
    return "".join(c.text or "" for c in update.contents if c.type == "text")


def _media(content: Content) -> ImageContent | AudioContent | None:
    if content.type != "data" or not content.uri or not content.media_type:
        return None
    kind = content.media_type.partition("/")[0]
    if kind not in ("image", "audio"):
        return None
    encoded = content.uri.partition(",")[2]
    try:
        base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        logger.warning("Dropped %s content that is not base64 data", content.media_type)
        return None
    if kind == "image":
        return ImageContent(type="image", data=encoded, mime_type=content.media_type)
    return AudioContent(type="audio", data=encoded, mime_type=content.media_type)


def _structured(response: AgentResponse) -> dict[str, Any] | None:
    try:
        value: object = response.value
    except ValueError:  # the reply was not the structured output it was asked for
        return None
    if value is None:
        return None
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if isinstance(value, dict):
        return cast("dict[str, Any]", value)
    return {"result": value}

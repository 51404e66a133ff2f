"""Results and updates → Responses wire objects and server-sent events.

Builders are named after the wire objects they produce and list fields in the
specification's order.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from agent_framework import AgentResponse, Content

from ._errors import AGENT_FAILED

__all__ = [
    "DONE",
    "KEEPALIVE",
    "ResponseDraft",
    "SSEWriter",
    "completed_response",
    "error_event_fields",
    "failed_response",
    "function_call_events",
    "output_text_message",
    "response_object",
    "usage_object",
]

Status = Literal["queued", "in_progress", "completed", "failed", "cancelled"]


@dataclass(slots=True)
class ResponseDraft:
    """What is known of a response before the agent runs."""

    id: str
    model: str
    message_id: str
    instructions: str | None
    previous_response_id: str | None
    store: bool
    metadata: Mapping[str, str]
    options: Mapping[str, Any]
    tools: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    tool_choice: Any = "auto"
    background: bool = False
    conversation: str | None = None
    created_at: int = field(default_factory=lambda: int(time.time()))


def output_text_message(
    draft: ResponseDraft, text: str | None, *, status: Literal["in_progress", "completed"]
) -> dict[str, Any]:
    """A ``message`` output item; ``text=None`` gives the empty item streaming starts with."""
    content: list[dict[str, Any]] = [] if text is None else [output_text(text)]
    return {
        "type": "message",
        "id": draft.message_id,
        "status": status,
        "role": "assistant",
        "content": content,
    }


def output_text(text: str) -> dict[str, Any]:
    """An ``output_text`` content part."""
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def usage_object(result: AgentResponse | None) -> dict[str, Any] | None:
    """The ``usage`` object from the agent's usage details, or ``None`` without them."""
    details: Mapping[str, Any] | None = result.usage_details if result is not None else None
    if not details:
        return None
    input_tokens = int(details.get("input_token_count") or 0)
    output_tokens = int(details.get("output_token_count") or 0)
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": int(details.get("total_token_count") or input_tokens + output_tokens),
        "input_tokens_details": {
            "cached_tokens": int(details.get("cache_read_input_token_count") or 0),
            "cache_write_tokens": int(details.get("cache_creation_input_token_count") or 0),
        },
        "output_tokens_details": {
            "reasoning_tokens": int(details.get("reasoning_output_token_count") or 0)
        },
    }


def response_object(
    draft: ResponseDraft,
    *,
    status: Status,
    output: list[dict[str, Any]],
    result: AgentResponse | None = None,
    error: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The ``response`` object, with every field the Responses schema requires.

    A response made in a conversation carries ``conversation: {"id"}`` after
    ``previous_response_id``.
    """
    conversation = {"conversation": {"id": draft.conversation}} if draft.conversation else {}
    return {
        "id": draft.id,
        "object": "response",
        "created_at": draft.created_at,
        "completed_at": int(time.time()) if status == "completed" else None,
        "status": status,
        "incomplete_details": None,
        "model": draft.model,
        "previous_response_id": draft.previous_response_id,
        **conversation,
        "instructions": draft.instructions,
        "output": output,
        "error": dict(error) if error is not None else None,
        "tools": draft.tools,
        "tool_choice": draft.tool_choice,
        "truncation": "disabled",
        "parallel_tool_calls": draft.options.get("allow_multiple_tool_calls", True),
        "text": {"format": {"type": "text"}},
        "top_p": float(draft.options.get("top_p", 1.0)),
        "presence_penalty": 0.0,
        "frequency_penalty": 0.0,
        "top_logprobs": 0,
        "temperature": float(draft.options.get("temperature", 1.0)),
        "reasoning": None,
        "usage": usage_object(result),
        "max_output_tokens": draft.options.get("max_tokens"),
        "max_tool_calls": None,
        "store": draft.store,
        "background": draft.background,
        "service_tier": "default",
        "metadata": dict(draft.metadata),
        "safety_identifier": None,
        "prompt_cache_key": None,
    }


def function_call_items(contents: Iterable[Content]) -> list[dict[str, Any]]:
    """A ``function_call`` item per call the agent left for the caller to run."""
    calls: dict[str, dict[str, Any]] = {}
    for content in contents:
        if content.type != "function_call" or not content.call_id:
            continue
        arguments = content.arguments
        text = arguments if isinstance(arguments, str) else json.dumps(arguments or {})
        known = calls.get(content.call_id)
        # The framework may repeat a call without its arguments: keep the full one.
        if known is None or (text not in ("", "{}") and known["arguments"] in ("", "{}")):
            calls[content.call_id] = {
                "type": "function_call",
                "id": f"fc_{content.call_id}",
                "call_id": content.call_id,
                "name": content.name or "",
                "arguments": text,
                "status": "completed",
            }
    return list(calls.values())


def completed_response(
    draft: ResponseDraft,
    result: AgentResponse,
    *,
    streamed_calls: list[Content] | None = None,
) -> dict[str, Any]:
    """The finished response: the assistant's text and the calls it left to the caller.

    A streamed response always holds its message item (it was announced first), and its
    calls are the ones the stream carried: some framework versions repeat a call's
    arguments in the final result.
    """
    if streamed_calls is None:
        calls = function_call_items(c for m in result.messages for c in m.contents)
    else:
        calls = function_call_items(streamed_calls)
    always_message = streamed_calls is not None
    text = result.text
    output: list[dict[str, Any]] = []
    if text or always_message or not calls:
        output.append(output_text_message(draft, text, status="completed"))
    output.extend(calls)
    return response_object(draft, status="completed", output=output, result=result)


def failed_response(draft: ResponseDraft) -> dict[str, Any]:
    """A response whose run failed, without the failure's internals."""
    error = {"code": "server_error", "message": AGENT_FAILED}
    return response_object(draft, status="failed", output=[], error=error)


class SSEWriter:
    """Frames events as ``event:``/``data:`` pairs with consecutive sequence numbers."""

    __slots__ = ("_next",)

    def __init__(self) -> None:
        self._next = 0

    def event(self, kind: str, fields: Mapping[str, Any]) -> bytes:
        """One complete event: ``type`` and ``sequence_number`` lead its data."""
        data = {"type": kind, "sequence_number": self._next, **fields}
        self._next += 1
        payload = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        return f"event: {kind}\ndata: {payload}\n\n".encode()


def function_call_events(
    call: dict[str, Any], output_index: int
) -> list[tuple[str, dict[str, Any]]]:
    """The events that stream one ``function_call`` item, arguments in one delta."""
    at = {"item_id": call["id"], "output_index": output_index}
    started = {**call, "arguments": "", "status": "in_progress"}
    return [
        ("response.output_item.added", {"output_index": output_index, "item": started}),
        ("response.function_call_arguments.delta", {**at, "delta": call["arguments"]}),
        (
            "response.function_call_arguments.done",
            {**at, "name": call["name"], "arguments": call["arguments"]},
        ),
        ("response.output_item.done", {"output_index": output_index, "item": call}),
    ]


def error_event_fields() -> dict[str, Any]:
    """The ``error`` event's fields: nested and flat, so every client shape reads it."""
    error = {"type": "server_error", "code": "server_error", "message": AGENT_FAILED, "param": None}
    return {"code": "server_error", "message": AGENT_FAILED, "param": None, "error": error}


KEEPALIVE = b": keep-alive\n\n"
"""An SSE comment: clients ignore it, proxies see traffic."""
DONE = b"data: [DONE]\n\n"
"""The stream terminator OpenAI clients stop at."""

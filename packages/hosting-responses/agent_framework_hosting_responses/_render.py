"""Results and updates → Responses wire objects and server-sent events.

Builders are named after the wire objects they produce and list fields in the
specification's order.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from agent_framework import AgentResponse, AgentResponseUpdate, Content
from agent_framework_hosting import encode_json

from ._errors import AGENT_FAILED, ResponsesError
from ._items import (
    Event,
    Item,
    OutputBuilder,
    calls_answered,
    end_incomplete,
    item_events,
    items_of,
    matched,
    new_item_id,
    wire,
)

__all__ = [
    "DONE",
    "OutputStream",
    "ResponseDraft",
    "SSEWriter",
    "completed_response",
    "error_event_fields",
    "failed_response",
    "function_call_events",
    "output_of",
    "response_object",
    "usage_object",
]

Status = Literal["queued", "in_progress", "completed", "incomplete", "failed", "cancelled"]


@dataclass(slots=True)
class ResponseDraft:
    """What is known of a response before the agent runs."""

    id: str
    model: str
    instructions: str | None
    previous_response_id: str | None
    store: bool
    metadata: Mapping[str, str]
    options: Mapping[str, Any]
    tools: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    tool_choice: Any = "auto"
    background: bool = False
    conversation: str | None = None
    safety_identifier: str | None = None
    prompt_cache_key: str | None = None
    user: str | None = None
    own_tools: frozenset[str] = frozenset()
    """The target's own tool names: calls to them are the agent's to run, never output."""
    created_at: int = field(default_factory=lambda: int(time.time()))


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
    incomplete: str | None = None,
) -> dict[str, Any]:
    """The ``response`` object, with every field the Responses schema requires.

    ``incomplete`` is the reason of an ``incomplete`` response. A response made in a
    conversation carries ``conversation: {"id"}`` after ``previous_response_id``;
    ``user`` (not in the specification, in the SDK's model) comes last.
    """
    conversation = {"conversation": {"id": draft.conversation}} if draft.conversation else {}
    return {
        "id": draft.id,
        "object": "response",
        "created_at": draft.created_at,
        "completed_at": int(time.time()) if status == "completed" else None,
        "status": status,
        "incomplete_details": {"reason": incomplete} if incomplete else None,
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
        "presence_penalty": float(draft.options.get("presence_penalty", 0.0)),
        "frequency_penalty": float(draft.options.get("frequency_penalty", 0.0)),
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
        "safety_identifier": draft.safety_identifier,
        "prompt_cache_key": draft.prompt_cache_key,
        "user": draft.user,
    }


def function_call_items(
    contents: Iterable[Content], *, own_tools: frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    """A ``function_call`` item per call the agent left for the caller to run.

    A call of one of ``own_tools`` is not the caller's even when the framework left it
    unanswered: it holds such a call back while declared calls of the same batch wait for
    their answers, and runs it itself when the turn continues.
    """
    calls: dict[str, dict[str, Any]] = {}
    for content in contents:
        if content.type != "function_call" or not content.call_id or content.name in own_tools:
            continue
        arguments = content.arguments
        text = arguments if isinstance(arguments, str) else encode_json(arguments or {}).decode()
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


def output_of(
    result: AgentResponse, *, own_tools: frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    """A finished run's output: its items, then the calls it left to the caller.

    A run that produced neither answers with an empty message, so there is always output.
    """
    contents = [content for message in result.messages for content in message.contents]
    answered = calls_answered(contents)
    pending = (c for c in contents if c.call_id not in answered)
    calls = function_call_items(pending, own_tools=own_tools)
    output = [wire(item, status="completed") for item in items_of(result)]
    if not output and not calls:
        output.append(wire(Item("message", new_item_id("message")), status="completed"))
    return [*output, *calls]


def completed_response(
    draft: ResponseDraft, result: AgentResponse, *, output: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The finished response: ``output``, or the output of ``result``.

    When the agent stopped at its token limit the response is ``incomplete`` (reason
    ``max_output_tokens``), and so is the output of ``result``'s last item.
    """
    if not stopped_at_limit(result):
        output = output_of(result, own_tools=draft.own_tools) if output is None else output
        return response_object(draft, status="completed", output=output, result=result)
    if output is None:
        output = output_of(result, own_tools=draft.own_tools)
        end_incomplete(output)
    return response_object(
        draft, status="incomplete", output=output, result=result, incomplete="max_output_tokens"
    )


def stopped_at_limit(result: AgentResponse) -> bool:
    """Whether the agent's run ended at its token limit (finish reason ``length``)."""
    reason: object = getattr(result, "finish_reason", None)
    if reason is None:  # older framework versions leave it on the model's response
        reason = getattr(result.raw_representation, "finish_reason", None)
    return getattr(reason, "value", reason) == "length"


class OutputStream:
    """The output of a streamed response, event by event.

    Items are announced as the agent's contents arrive and closed one after another, each
    when the next begins, with the content they streamed. The run's final result (after
    the response hook) decides the completed response: its items keep the ids of the
    streamed items they correspond to (the same kind, in the same order), and the item
    still open at the end closes with the final content when it has the same shape. Items
    the final result adds, the calls left to the caller, or an empty message when there
    is no output at all, are streamed whole before ``response.completed``. A run that
    ends part way closes its open item ``incomplete``.
    """

    def __init__(self, draft: ResponseDraft) -> None:
        self._draft = draft
        self._builder = OutputBuilder(streaming=True)
        self._calls: list[Content] = []
        self._answered: set[str] = set()

    def update(self, update: AgentResponseUpdate) -> list[Event]:
        """The events of one streamed update."""
        events: list[Event] = []
        for content in update.contents:
            if content.type == "function_call":
                self._calls.append(content)
            elif content.type == "function_result" and content.call_id:
                self._answered.add(content.call_id)
            events.extend(self._builder.add(content, source=update.message_id, role=update.role))
        return events

    def finish(self, result: AgentResponse) -> tuple[list[Event], dict[str, Any]]:
        """The closing events and the completed response.

        The calls are the ones the stream carried: some framework versions repeat a
        call's arguments in the final result.
        """
        streamed = self._builder.items
        final = items_of(result)
        pairs = matched(streamed, final)
        open_final = next(
            (item for item, twin in zip(final, pairs, strict=True) if twin is self._builder.open),
            None,
        )
        events = self._builder.close(open_final)
        events.extend(self._settle_calls(final, pairs))
        next_index = len(streamed)
        output: list[dict[str, Any]] = []
        for item, twin in zip(final, pairs, strict=True):
            if twin is not None:
                item.id = twin.id
            else:
                events.extend(item_events(item, next_index))
                next_index += 1
            output.append(wire(item, status="completed"))
        pending = (c for c in self._calls if c.call_id not in self._answered)
        calls = function_call_items(pending, own_tools=self._draft.own_tools)
        if not output and not calls:
            empty = Item("message", new_item_id("message"))
            events.extend(item_events(empty, next_index))
            output.append(wire(empty, status="completed"))
        for index, call in enumerate(calls, start=next_index):
            events.extend(function_call_events(call, index))
        output.extend(calls)
        if stopped_at_limit(result):
            end_incomplete(output, events)
        return events, completed_response(self._draft, result, output=output)

    def _settle_calls(self, final: list[Item], pairs: list[Item | None]) -> list[Event]:
        """Finish the streamed MCP calls still waiting: with the final run's result, or not.

        A final call without the result the stream carried keeps the streamed one.
        """
        events: list[Event] = []
        for item, twin in zip(final, pairs, strict=True):
            if item.call is None or twin is None or twin.call is None:
                continue
            if item.call.done and not twin.call.done:
                events.extend(self._builder.complete_call(twin, item.call.output))
            elif twin.call.done and not item.call.done:
                item.call = twin.call
        return [*events, *self._builder.end_pending_calls()]

    def interrupt(self) -> tuple[list[Event], list[dict[str, Any]]]:
        """The events that close the open item ``incomplete``, and the output so far.

        For a run that failed or was cancelled part way: the output holds the items the
        stream announced, each as it was closed.
        """
        writing = self._builder.open
        events = self._builder.close(status="incomplete")
        events.extend(self._builder.end_pending_calls())
        output = [
            wire(item, status="incomplete" if item is writing else "completed")
            for item in self._builder.items
        ]
        return events, output


def failed_response(
    draft: ResponseDraft, *, output: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A response whose run failed, with ``output`` streamed before, without internals."""
    error = {"code": "server_error", "message": AGENT_FAILED}
    return response_object(draft, status="failed", output=output or [], error=error)


class SSEWriter:
    """Frames events as ``event:``/``data:`` pairs with consecutive sequence numbers.

    Events are encoded by the host's :func:`encode_json`: a number JSON cannot carry
    fails the event (``ValueError``) before it takes a sequence number.
    """

    __slots__ = ("_next",)

    def __init__(self, *, first: int = 0) -> None:
        self._next = first

    def event(self, kind: str, fields: Mapping[str, Any]) -> bytes:
        """One complete event: ``type`` and ``sequence_number`` lead its data."""
        return b"event: " + kind.encode() + b"\ndata: " + self.data(kind, fields) + b"\n\n"

    def data(self, kind: str, fields: Mapping[str, Any]) -> bytes:
        """The next event object as JSON: ``type`` and ``sequence_number`` lead it."""
        # The fields' own object, opened with the two leading members: one encoding pass,
        # no merged copy of the fields.
        rest = encode_json(fields)
        lead = b'{"type":%s,"sequence_number":%d' % (encode_json(kind), self._next)
        self._next += 1
        return lead + b"}" if rest == b"{}" else lead + b"," + rest[1:]


def function_call_events(call: dict[str, Any], output_index: int) -> list[Event]:
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


def error_event_fields(fault: ResponsesError | None = None) -> dict[str, Any]:
    """The ``error`` event's fields: nested and flat, so every client shape reads it.

    ``fault`` is the client's mistake the run failed on; without one, the agent failed.
    """
    if fault is None:
        fault = ResponsesError(AGENT_FAILED, code="server_error", type="server_error")
    error = {"type": fault.type, "code": fault.code, "message": fault.message, "param": fault.param}
    return {"code": fault.code, "message": fault.message, "param": fault.param, "error": error}


DONE = b"data: [DONE]\n\n"
"""The stream terminator OpenAI clients stop at."""

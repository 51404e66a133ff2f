"""The host to the wire: one run's updates and result as AG-UI events, in the protocol's order.

``RUN_STARTED`` opens the run (echoing the messages it adds) and ``STATE_SNAPSHOT`` gives
its state. Text streams as ``TEXT_MESSAGE_START`` / ``_CONTENT`` / ``_END`` per assistant
message, reasoning as ``REASONING_*``, each tool call as ``TOOL_CALL_START`` / ``_ARGS`` /
``_END`` and each result the agent's own tools returned as ``TOOL_CALL_RESULT``. The run
ends with ``RUN_FINISHED``: its outcome names the tool calls left for the client (tools the
client declared), or is an ``interrupt`` holding a workflow's pending requests; or with
``RUN_ERROR``. When the final result (after the response hook) differs from what was
streamed, a ``MESSAGES_SNAPSHOT`` of the whole thread precedes the end, so a client shows
what the thread keeps.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Mapping, Sequence
from typing import Any, cast

from ag_ui.core import (
    AssistantMessage,
    BaseEvent,
    CustomEvent,
    FunctionCall,
    Interrupt,
    MessagesSnapshotEvent,
    ReasoningEndEvent,
    ReasoningMessageContentEvent,
    ReasoningMessageEndEvent,
    ReasoningMessageStartEvent,
    ReasoningStartEvent,
    RunAgentInput,
    RunErrorEvent,
    RunFinishedCancelledOutcome,
    RunFinishedEvent,
    RunFinishedInterruptOutcome,
    RunFinishedSuccessOutcome,
    RunStartedEvent,
    StateDeltaEvent,
    StateSnapshotEvent,
    TextMessageContentEvent,
    TextMessageEndEvent,
    TextMessageStartEvent,
    TokenUsage,
    ToolCall,
    ToolCallArgsEvent,
    ToolCallEndEvent,
    ToolCallResultEvent,
    ToolCallStartEvent,
    ToolMessage,
)
from ag_ui.core import Message as AGUIMessage
from agent_framework import AgentResponse, AgentResponseUpdate, Content, Message
from agent_framework_hosting import encode_json
from pydantic import TypeAdapter

__all__ = ["RunEvents", "encoded", "is_terminal", "new_id", "wire_dict"]

_MESSAGES: TypeAdapter[list[AGUIMessage]] = TypeAdapter(list[AGUIMessage])


def new_id(prefix: str) -> str:
    """A fresh id for a message the channel makes (``msg_…``, ``tool_…``)."""
    return f"{prefix}_{secrets.token_hex(12)}"


def wire_dict(model: Any) -> dict[str, Any]:
    """A protocol object as its JSON fields (camelCase, empty optionals left out)."""
    return cast("dict[str, Any]", model.model_dump(mode="json", by_alias=True))


def encoded(event: BaseEvent) -> str:
    """An event as the one-line JSON of an SSE ``data`` field (and of a log entry)."""
    return encode_json(wire_dict(event)).decode()


_TERMINAL = ('{"type":"RUN_FINISHED"', '{"type":"RUN_ERROR"')


def is_terminal(entry: str) -> bool:
    """Whether an encoded event ends its run (``type`` is always its first field)."""
    return entry.startswith(_TERMINAL)


_DELTAS = (TextMessageContentEvent, ReasoningMessageContentEvent, ToolCallArgsEvent)


def is_delta(event: BaseEvent) -> bool:
    """Whether ``event`` is a piece of a message's text or a call's arguments."""
    return isinstance(event, _DELTAS)


def merged_deltas(held: BaseEvent, delta: BaseEvent) -> BaseEvent | None:
    """``held`` and then ``delta`` as one event, when both add to the same message or call."""
    if type(held) is not type(delta):
        return None
    if isinstance(held, ToolCallArgsEvent) and isinstance(delta, ToolCallArgsEvent):
        if held.tool_call_id != delta.tool_call_id:
            return None
        return held.model_copy(update={"delta": held.delta + delta.delta})
    if isinstance(held, (TextMessageContentEvent, ReasoningMessageContentEvent)) and isinstance(
        delta, (TextMessageContentEvent, ReasoningMessageContentEvent)
    ):
        if held.message_id != delta.message_id:
            return None
        return held.model_copy(update={"delta": held.delta + delta.delta})
    return None


class RunEvents:
    """Renders one run; the order of its events is the protocol's, whatever the updates.

    Args:
        thread_id: The run's thread.
        run_id: The run.
        calls_are_requests: The target is a workflow: the calls it ends with are its
            pending requests (an interrupt), not tool calls.

    """

    def __init__(self, thread_id: str, run_id: str, *, calls_are_requests: bool) -> None:
        self.thread_id = thread_id
        self.run_id = run_id
        self._requests = calls_are_requests
        self._ids: dict[str | None, str] = {}
        """Our id of each message, by the framework's (which repeat across runs)."""
        self._streamed: dict[str, str] = {}
        self._text: str | None = None
        self._reasoning: str | None = None
        self._calls: dict[str, bool] = {}
        """Each tool call started, and whether it is still open."""
        self._last_call: str | None = None
        self._results: dict[str, str] = {}

    def started(self, added: Sequence[AGUIMessage], state: Any) -> list[BaseEvent]:
        """``RUN_STARTED`` echoing the messages the run adds, and the run's state."""
        echoed = RunAgentInput(thread_id=self.thread_id, run_id=self.run_id, messages=list(added))
        events: list[BaseEvent] = [
            RunStartedEvent(thread_id=self.thread_id, run_id=self.run_id, input=echoed)
        ]
        if state is not None:
            events.append(StateSnapshotEvent(snapshot=state))
        return events

    def state_delta(self, patch: list[dict[str, Any]]) -> list[BaseEvent]:
        """A ``STATE_DELTA`` for a change of the shared state (none for no change)."""
        if not patch:
            return []
        return [StateDeltaEvent.model_validate({"delta": patch})]

    def update(self, update: AgentResponseUpdate) -> list[BaseEvent]:
        """The events of one streamed update."""
        events: list[BaseEvent] = []
        for content in update.contents:
            if content.type == "text" and content.text:
                events += self._text_delta(self._id(update.message_id), content.text)
            elif content.type == "text_reasoning" and content.text:
                events += self._reasoning_delta(update.message_id, content.text)
            elif content.type == "function_call" and not self._requests:
                events += self._call(content, self._id(update.message_id))
            elif content.type == "function_result" and content.call_id:
                events += self._result(content)
            elif content.type in ("data", "uri") and content.uri:
                events += self._close_all()
                media = {"uri": content.uri, "mediaType": content.media_type}
                events.append(CustomEvent(name="media", value=media))
        return events

    def finish(
        self, final: AgentResponse, earlier: Sequence[Mapping[str, Any]]
    ) -> tuple[list[BaseEvent], list[dict[str, Any]], list[dict[str, Any]]]:
        """The closing events, the messages the thread keeps, and the interrupts left open.

        ``earlier`` is the thread's history before the run's output (its input
        included): the base of a messages snapshot.
        """
        events = self._close_all()
        calls = [c for m in final.messages for c in m.contents if c.type == "function_call"]
        answered = {
            c.call_id for m in final.messages for c in m.contents if c.type == "function_result"
        }
        pending = [call for call in calls if call.call_id and call.call_id not in answered]
        interrupts: list[Interrupt] = []
        if self._requests:
            interrupts = [_interrupt(call) for call in pending]
        else:
            for call in pending:  # a hook may have dropped their updates: the client needs them
                if call.call_id not in self._calls:
                    events += self._call(call, self._id(None)) + self._close_all()
        output = self._kept(final.messages)
        if any(
            self._streamed.get(m["id"]) != m.get("content")
            for m in output
            if m["role"] == "assistant" and m.get("content")
        ):
            events.append(MessagesSnapshotEvent(messages=_messages([*earlier, *output])))
        outcome = (
            RunFinishedInterruptOutcome(interrupts=interrupts)
            if interrupts
            else RunFinishedSuccessOutcome(
                pending_tool_call_ids=[call.call_id or "" for call in pending] or None
            )
        )
        events.append(
            RunFinishedEvent(
                thread_id=self.thread_id,
                run_id=self.run_id,
                outcome=outcome,
                usage=_usage(final),
            )
        )
        return events, output, [wire_dict(interrupt) for interrupt in interrupts]

    def failed(self, message: str, code: str) -> list[BaseEvent]:
        """The open messages closed, then ``RUN_ERROR``."""
        return [*self._close_all(), RunErrorEvent(message=message, code=code)]

    def cancelled(self) -> list[BaseEvent]:
        """The open messages closed, then ``RUN_FINISHED`` with the ``cancelled`` outcome."""
        return [
            *self._close_all(),
            RunFinishedEvent(
                thread_id=self.thread_id,
                run_id=self.run_id,
                outcome=RunFinishedCancelledOutcome(),
            ),
        ]

    def _id(self, framework_id: str | None) -> str:
        if framework_id not in self._ids:
            self._ids[framework_id] = new_id("msg")
        return self._ids[framework_id]

    def _text_delta(self, message_id: str, text: str) -> list[BaseEvent]:
        events: list[BaseEvent] = []
        if self._text != message_id:
            events += self._close_all()
            events.append(TextMessageStartEvent(message_id=message_id, role="assistant"))
            self._text = message_id
        self._streamed[message_id] = self._streamed.get(message_id, "") + text
        events.append(TextMessageContentEvent(message_id=message_id, delta=text))
        return events

    def _reasoning_delta(self, framework_id: str | None, text: str) -> list[BaseEvent]:
        reasoning_id = self._id(f"reasoning:{framework_id}")
        events: list[BaseEvent] = []
        if self._reasoning != reasoning_id:
            events += self._close_all()
            events.append(ReasoningStartEvent(message_id=reasoning_id))
            events.append(ReasoningMessageStartEvent(message_id=reasoning_id))
            self._reasoning = reasoning_id
        events.append(ReasoningMessageContentEvent(message_id=reasoning_id, delta=text))
        return events

    def _call(self, content: Content, parent_id: str) -> list[BaseEvent]:
        call_id = content.call_id or self._last_call
        if call_id is None:
            return []
        events: list[BaseEvent] = []
        if call_id not in self._calls:
            events += self._close_all()
            name = content.name or "tool"
            events.append(
                ToolCallStartEvent(
                    tool_call_id=call_id, tool_call_name=name, parent_message_id=parent_id
                )
            )
            self._calls[call_id] = True
            self._last_call = call_id
        arguments = content.arguments
        if arguments and self._calls[call_id]:
            delta = arguments if isinstance(arguments, str) else json.dumps(arguments)
            events.append(ToolCallArgsEvent(tool_call_id=call_id, delta=delta))
        return events

    def _result(self, content: Content) -> list[BaseEvent]:
        call_id = content.call_id or ""
        events = self._close_all()
        message_id = self._results.setdefault(call_id, new_id("tool"))
        events.append(
            ToolCallResultEvent(
                message_id=message_id,
                tool_call_id=call_id,
                content=_result_text(content.result),
                role="tool",
            )
        )
        return events

    def _close_all(self) -> list[BaseEvent]:
        events: list[BaseEvent] = []
        if self._text is not None:
            events.append(TextMessageEndEvent(message_id=self._text))
            self._text = None
        if self._reasoning is not None:
            events.append(ReasoningMessageEndEvent(message_id=self._reasoning))
            events.append(ReasoningEndEvent(message_id=self._reasoning))
            self._reasoning = None
        for call_id, is_open in self._calls.items():
            if is_open:
                events.append(ToolCallEndEvent(tool_call_id=call_id))
                self._calls[call_id] = False
        return events

    def _kept(self, messages: Sequence[Message]) -> list[dict[str, Any]]:
        """The run's messages as the thread keeps them: text, tool calls, tool results."""
        kept: list[dict[str, Any]] = []
        for message in messages:
            results = [c for c in message.contents if c.type == "function_result" and c.call_id]
            for result in results:
                call_id = result.call_id or ""
                tool = ToolMessage(
                    id=self._results.setdefault(call_id, new_id("tool")),
                    tool_call_id=call_id,
                    content=_result_text(result.result),
                )
                kept.append(wire_dict(tool))
            calls = [
                ToolCall(
                    id=c.call_id,
                    function=FunctionCall(name=c.name or "tool", arguments=_arguments(c)),
                )
                for c in message.contents
                if c.type == "function_call" and c.call_id and not self._requests
            ]
            text = "".join(c.text or "" for c in message.contents if c.type == "text")
            if message.role == "assistant" and (text or calls):
                assistant = AssistantMessage(
                    id=self._id(message.message_id), content=text or None, tool_calls=calls or None
                )
                kept.append(wire_dict(assistant))
        return kept


def _arguments(content: Content) -> str:
    arguments = content.arguments
    if arguments is None:
        return ""
    return arguments if isinstance(arguments, str) else json.dumps(arguments)


def _result_text(result: Any) -> str:
    if isinstance(result, str):
        return result
    return json.dumps(result, default=str, ensure_ascii=False)


def _interrupt(call: Content) -> Interrupt:
    """A workflow's pending request as an interrupt; ``resume`` answers it by its id."""
    name = call.name or "request"
    data: Any = _arguments(call)
    with contextlib.suppress(ValueError):
        data = json.loads(data)
    return Interrupt(
        id=call.call_id or "",
        reason="input_required",
        message=f"The workflow asks for an answer to {name}.",
        metadata={"request": {"type": name, "data": data}},
    )


def _usage(final: AgentResponse) -> list[TokenUsage] | None:
    details = cast("Mapping[str, Any] | None", final.usage_details)
    if not details:
        return None
    usage = TokenUsage(
        input_tokens=details.get("input_token_count"),
        output_tokens=details.get("output_token_count"),
        total_tokens=details.get("total_token_count"),
    )
    return [usage] if wire_dict(usage) else None


def _messages(kept: Sequence[Mapping[str, Any]]) -> list[AGUIMessage]:
    return _MESSAGES.validate_python(list(kept))

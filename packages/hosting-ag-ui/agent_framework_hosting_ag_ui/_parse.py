"""The wire to the host: a ``RunAgentInput`` body to the messages and options of a run."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from ag_ui.core import (
    AssistantMessage,
    ContentPart,
    DataSource,
    DeveloperMessage,
    RunAgentInput,
    SystemMessage,
    TextPart,
    Tool,
    ToolMessage,
    UrlSource,
    UserMessage,
)
from ag_ui.core import Message as AGUIMessage
from agent_framework import Content, FunctionTool, Message
from agent_framework_hosting import WireError, data_content, decode_json
from pydantic import ValidationError

from ._errors import AGUIError

__all__ = ["RunTurn", "check_id", "parse_run_input", "turn_of"]

_ID = re.compile(r"[^\x00-\x1f\x7f]{1,256}")
"""A thread or run id: 1 to 256 characters, none of them a control character."""
_TOOL_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
_EMPTY_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}


def check_id(value: str, what: str) -> str:
    """``value`` if it is a usable id, else a 400 naming ``what``."""
    if not _ID.fullmatch(value):
        raise AGUIError(f"'{what}' must be 1 to 256 characters, none of them a control character.")
    return value


def parse_run_input(body: bytes) -> RunAgentInput:
    """The request body as a ``RunAgentInput``.

    Raises:
        AGUIError: The body is not JSON within the limits, or not a ``RunAgentInput``
            (400, the message names the first field at fault).

    """
    try:
        decoded = decode_json(body)
    except WireError as error:
        raise AGUIError(error.message, status=error.status) from None
    if not isinstance(decoded, dict):
        raise AGUIError("The body must be a RunAgentInput object.")
    try:
        run_input = RunAgentInput.model_validate(decoded)
    except ValidationError as error:
        raise AGUIError(f"Not a RunAgentInput: {_first_problem(error)}") from None
    check_id(run_input.thread_id, "threadId")
    check_id(run_input.run_id, "runId")
    return run_input


@dataclass(frozen=True)
class RunTurn:
    """What one run gives the target, and what it adds to the thread."""

    added: list[AGUIMessage]
    """The input's messages the thread has not seen yet, in order."""
    messages: list[Message]
    """``added`` (and the answers of ``resume``) as the framework's messages."""
    tools: list[FunctionTool] = field(default_factory=list[FunctionTool])
    """The tools the client declares: the agent may call them, the client runs them."""
    instructions: str | None = None
    """The input's ``context``, as instructions for this run."""


def turn_of(
    run_input: RunAgentInput,
    seen: Collection[str],
    *,
    own_tools: Collection[str],
    takes_options: bool,
) -> RunTurn:
    """The turn ``run_input`` asks for in a thread that holds the messages ``seen``.

    A client sends the whole thread every time; what it adds is what the thread has not
    seen. ``resume`` answers become function results naming the interrupts they answer.

    Raises:
        AGUIError: Nothing new to run, a content part the channel cannot take, a tool
            clashing with another or with one of the agent's own, or tools and context
            for a workflow, which takes neither (400).

    """
    added = [message for message in run_input.messages if message.id not in seen]
    messages = [converted for message in added for converted in _converted(message)]
    answers = _resumed(run_input)
    if answers:
        messages.append(Message("tool", answers))
    if not messages:
        raise AGUIError(
            "The input adds nothing to the thread: send a new message, a tool result, or "
            "'resume' answers to the run's interrupts."
        )
    tools = _declared_tools(run_input.tools or [], own_tools)
    instructions = "\n".join(f"{c.description}: {c.value}" for c in run_input.context or [])
    if not takes_options and (tools or instructions):
        raise AGUIError(
            "This server runs a workflow, which takes neither 'tools' nor 'context': send "
            "them empty.",
            code="unsupported_parameter",
        )
    return RunTurn(added, messages, tools, instructions or None)


def _converted(message: AGUIMessage) -> list[Message]:
    """An AG-UI message as the framework's: empty for what is not model input."""
    if isinstance(message, UserMessage):
        return [Message("user", _contents(message.content, message.id))]
    if isinstance(message, SystemMessage | DeveloperMessage):
        return [Message("system", [Content.from_text(text=message.content)])]
    if isinstance(message, AssistantMessage):
        contents = [Content.from_text(text=message.content)] if message.content else []
        contents += [
            Content.from_function_call(
                call_id=call.id, name=call.function.name, arguments=call.function.arguments
            )
            for call in message.tool_calls or []
        ]
        return [Message("assistant", contents)] if contents else []
    if isinstance(message, ToolMessage):
        result = message.error if message.error is not None else _tool_text(message.content)
        content = Content.from_function_result(call_id=message.tool_call_id, result=result)
        return [Message("tool", [content])]
    return []  # activity and reasoning messages are the UI's, not the model's


def _contents(content: str | Sequence[ContentPart], message_id: str) -> list[Content]:
    if isinstance(content, str):
        return [Content.from_text(text=content)]
    contents = [_content(part, message_id) for part in content]
    if not contents:
        raise AGUIError(f"Message {message_id!r} has no content.")
    return contents


def _content(part: ContentPart, message_id: str) -> Content:
    if isinstance(part, TextPart):
        return Content.from_text(text=part.text)
    source = part.source
    if isinstance(source, DataSource):
        try:
            data = base64.b64decode(source.value, validate=True)
        except (binascii.Error, ValueError):
            raise AGUIError(
                f"A {part.type} part of message {message_id!r} has data that is not base64."
            ) from None
        return data_content(data, source.mime_type)
    if isinstance(source, UrlSource) and source.value.startswith(("https://", "http://")):
        return Content.from_uri(uri=source.value, media_type=source.mime_type)
    raise AGUIError(
        f"A {part.type} part of message {message_id!r} must carry its data (a 'data' "
        "source) or an http(s) URL; file references are not supported.",
        code="unsupported_content",
    )


def _tool_text(content: str | Sequence[ContentPart]) -> str:
    if isinstance(content, str):
        return content
    return "".join(part.text for part in content if isinstance(part, TextPart))


def _resumed(run_input: RunAgentInput) -> list[Content]:
    answers: list[Content] = []
    for entry in run_input.resume or []:
        if entry.status != "resolved":
            raise AGUIError(
                f"Interrupt {entry.interrupt_id!r} cannot be cancelled: the workflow waits "
                "for an answer. Resolve it, or start a new thread.",
                code="unsupported_parameter",
            )
        result = entry.payload if isinstance(entry.payload, str) else json.dumps(entry.payload)
        answers.append(Content.from_function_result(call_id=entry.interrupt_id, result=result))
    return answers


def _declared_tools(tools: Iterable[Tool], own_tools: Collection[str]) -> list[FunctionTool]:
    declared: dict[str, FunctionTool] = {}
    for tool in tools:
        name = tool.name
        if not _TOOL_NAME.fullmatch(name):
            raise AGUIError(f"Tool name {name!r} must be 1 to 64 letters, digits, '_' or '-'.")
        if name in declared:
            raise AGUIError(f"Two tools are named {name!r}; tool names must be unique.")
        if name in own_tools:
            raise AGUIError(
                f"{name!r} is the name of one of the agent's own tools; declare the tool "
                "under another name."
            )
        parameters: Any = tool.parameters
        schema = cast(
            "Mapping[str, Any]", parameters if isinstance(parameters, Mapping) else _EMPTY_SCHEMA
        )
        declared[name] = FunctionTool(
            name=name,
            description=tool.description,
            func=None,
            input_model=dict(schema),
        )
    return list(declared.values())


def _first_problem(error: ValidationError) -> str:
    problem = error.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(part) for part in problem["loc"]) or "the body"
    return f"{where}: {problem['msg']}"

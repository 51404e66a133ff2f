"""A workflow's requests for outside input (``ctx.request_info``), as calls a client answers.

A request still pending after a turn is surfaced as a ``function_call`` content: ``call_id``
is the request id, ``name`` the request data's type name, ``arguments`` the data as JSON,
and ``additional_properties["response_schema"]`` the JSON schema of the answer it expects
(for a channel that asks a person through a form).
The next turn answers with ``function_result`` contents naming those call ids; each result
is converted to the response type the request declared, and the workflow resumes with them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Iterable, Mapping
from typing import Any

from agent_framework import Content, Message, Workflow, WorkflowEvent
from pydantic import PydanticUserError, TypeAdapter

from ._framework import (
    coerce_to_type,
    is_instance_of,
    pending_request_events,
    response_handler_types,
)
from ._wire import WireError, decode_json

__all__ = [
    "RESPONSE_SCHEMA_PROPERTY",
    "WorkflowInputError",
    "checkpoint_types",
    "pending_requests",
    "request_calls",
    "response_schema",
    "workflow_answers",
]

RESPONSE_SCHEMA_PROPERTY = "response_schema"
"""The ``additional_properties`` key of a request's call holding its answer's JSON schema."""


class WorkflowInputError(ValueError):
    """A turn's input cannot start or resume the workflow of its conversation.

    A client error: answers that name no pending request, leave one unanswered or do not
    convert to its response type, a new message while requests are pending. Raised before
    the workflow runs, so the conversation is left as it was.

    Attributes:
        call_id: The call id of the answer at fault, when one is.

    """

    def __init__(self, message: str, *, call_id: str | None = None) -> None:
        super().__init__(message)
        self.call_id = call_id


async def pending_requests(workflow: Workflow) -> dict[str, WorkflowEvent[Any]]:
    """The workflow's requests waiting for an answer, by request id."""
    return await pending_request_events(workflow)


def request_calls(pending: Mapping[str, WorkflowEvent[Any]]) -> list[Content]:
    """A ``function_call`` content per pending request, for the caller to answer."""
    return [
        Content.from_function_call(
            call_id=request_id,
            name=type(event.data).__name__,
            # No NaN or Infinity: the arguments are JSON a caller parses.
            arguments=json.dumps(
                _jsonable(event.data), default=str, ensure_ascii=False, allow_nan=False
            ),
            additional_properties=_schema_property(event.response_type),
        )
        for request_id, event in pending.items()
    ]


def response_schema(response_type: Any) -> dict[str, Any] | None:
    """The JSON schema of an answer of ``response_type``; ``None`` when it has none."""
    try:
        schema = TypeAdapter(response_type).json_schema()
    except (PydanticUserError, TypeError, ValueError):
        return None
    return schema


def _schema_property(response_type: Any) -> dict[str, Any] | None:
    schema = response_schema(response_type)
    return None if schema is None else {RESPONSE_SCHEMA_PROPERTY: schema}


def workflow_answers(
    messages: Iterable[Message], pending: Mapping[str, WorkflowEvent[Any]]
) -> dict[str, Any] | None:
    """The answers a turn gives to the pending requests, or ``None`` for a new message.

    Every ``function_result`` content answers the request its ``call_id`` names; all
    pending requests are answered in one turn, and such a turn brings no user message.
    Assistant and system messages beside the answers (a transcript sent back, instructions
    a hook added) do not reach the workflow.

    Raises:
        WorkflowInputError: The input cannot answer the pending requests, or is a new
            message while requests are pending.

    """
    messages = list(messages)
    results = [c for m in messages for c in m.contents if c.type == "function_result"]
    if not results:
        if pending:
            raise WorkflowInputError(
                f"The workflow is waiting for answers to {_listed(pending)}: answer each "
                "with a function result naming its call id before sending a new message."
            )
        return None
    if any(
        m.role == "user" and any(c.type != "function_result" for c in m.contents) for m in messages
    ):
        raise WorkflowInputError(
            "A turn that answers the workflow's requests holds only the answers: "
            "send the new message in a turn of its own."
        )
    answers: dict[str, Any] = {}
    for result in results:
        call_id = result.call_id or ""
        event = pending.get(call_id)
        if event is None:
            waiting = (
                f"it is waiting for {_listed(pending)}" if pending else "it is waiting for none"
            )
            raise WorkflowInputError(
                f"The workflow has no pending request with call id {call_id!r}; {waiting}.",
                call_id=call_id,
            )
        if call_id in answers:
            raise WorkflowInputError(f"Call {call_id!r} is answered twice.", call_id=call_id)
        answers[call_id] = _answer(result.result, event.response_type, call_id)
    unanswered = [request_id for request_id in pending if request_id not in answers]
    if unanswered:
        raise WorkflowInputError(
            f"Answer all of the workflow's requests in one turn: {_listed(unanswered)} "
            "has no answer."
        )
    return answers


def _answer(value: Any, response_type: type[Any], call_id: str) -> Any:
    """``value`` as ``response_type``: a string is read as JSON unless a string is expected."""
    if isinstance(value, str) and response_type is not str:
        # Not JSON (or JSON refused at the boundary: NaN, too deep): checked as the text.
        with contextlib.suppress(WireError):
            value = decode_json(value)
    converted = coerce_to_type(value, response_type)
    if not is_instance_of(converted, response_type):
        expected = getattr(response_type, "__name__", str(response_type))
        raise WorkflowInputError(
            f"The answer to call {call_id!r} must be {expected} (as JSON), "
            f"got {type(value).__name__}.",
            call_id=call_id,
        )
    return converted


def _jsonable(data: Any) -> Any:
    """Request data as JSON values: a model's or dataclass's fields, else the data itself."""
    model_dump = getattr(data, "model_dump", None)
    if callable(model_dump):
        return model_dump(mode="json")
    if dataclasses.is_dataclass(data) and not isinstance(data, type):
        return dataclasses.asdict(data)
    to_dict = getattr(data, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    return data


def _listed(call_ids: Iterable[str]) -> str:
    return ", ".join(repr(call_id) for call_id in call_ids)


def checkpoint_types(workflow: Workflow) -> list[str]:
    """The request and response types the workflow's response handlers declare.

    A pending request is checkpointed with its data; file checkpoints restore only types
    they are told to allow (``module:qualname``), so these are allowed for the workflow.
    """
    return sorted(
        {
            f"{kind.__module__}:{kind.__qualname__}"
            for executor in workflow.get_executors_list()
            for kind in response_handler_types(executor)
            if kind.__module__ != "builtins"
        }
    )

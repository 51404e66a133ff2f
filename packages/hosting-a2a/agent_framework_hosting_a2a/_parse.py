"""A2A messages → the agent's input: parts as contents, or answers to a workflow's requests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from a2a.types.a2a_pb2 import Message as A2AMessage
from a2a.types.a2a_pb2 import Part, Role, SendMessageConfiguration
from a2a.utils.errors import ContentTypeNotSupportedError, InvalidParamsError
from agent_framework import Content, Message
from agent_framework_hosting import data_content, encode_json
from google.protobuf.json_format import MessageToDict

from ._tasks import PendingRequest

__all__ = ["OUTPUT_MODES", "check_output_modes", "input_message", "request_answers"]

OUTPUT_MODES = ("text/plain", "application/json")
"""What the agent answers in: text, and data parts for structured output."""


def input_message(message: A2AMessage) -> Message:
    """The user's message as the agent reads it: text, files and data as contents.

    Raises:
        InvalidParamsError: The message is not a user message with at least one part,
            or a part holds no content.

    """
    _check_user_message(message)
    return Message("user", [_content(part, index) for index, part in enumerate(message.parts)])


def request_answers(message: A2AMessage, pending: Sequence[PendingRequest]) -> Message:
    """The message as answers to the workflow requests a task waits on.

    One request is answered by the message's data part, else by its text; several by a
    data part mapping each request id to its answer.

    Raises:
        InvalidParamsError: The message cannot be read as those answers.

    """
    _check_user_message(message)
    data: list[Any] = [MessageToDict(part.data) for part in message.parts if part.HasField("data")]
    if len(pending) == 1:
        answer: Any = data[0] if data else "".join(p.text for p in message.parts)
        answers = {pending[0].id: answer}
    elif data and isinstance(data[0], dict):
        answers = {str(key): value for key, value in cast("dict[Any, Any]", data[0]).items()}
    else:
        ids = ", ".join(repr(request.id) for request in pending)
        raise InvalidParamsError(
            f"The task waits on several requests ({ids}): answer them with one data part "
            "mapping each request id to its answer."
        )
    contents = [
        Content.from_function_result(call_id=call_id, result=answer)
        for call_id, answer in answers.items()
    ]
    return Message("user", contents)


def check_output_modes(configuration: SendMessageConfiguration) -> None:
    """Refuse a request whose client accepts none of what the agent answers in.

    Raises:
        ContentTypeNotSupportedError: No accepted output mode takes text or JSON.

    """
    accepted = list(configuration.accepted_output_modes)
    if not accepted or any(_accepts(mode) for mode in accepted):
        return
    raise ContentTypeNotSupportedError(
        f"The agent answers in {', '.join(OUTPUT_MODES)}; the request accepts only "
        f"{', '.join(accepted)}."
    )


def _accepts(mode: str) -> bool:
    mode = mode.partition(";")[0].strip().lower()
    return mode in {"*/*", "text/*", "application/*", *OUTPUT_MODES}


def _check_user_message(message: A2AMessage) -> None:
    if message.role != Role.ROLE_USER:
        raise InvalidParamsError("The message must have the role ROLE_USER.")
    if not message.message_id:
        raise InvalidParamsError("The message needs a messageId.")
    if not message.parts:
        raise InvalidParamsError("The message needs at least one part.")


def _content(part: Part, index: int) -> Content:
    kind = part.WhichOneof("content")
    media_type = part.media_type or None
    if kind == "text":
        return Content.from_text(text=part.text)
    if kind == "raw":
        return data_content(
            part.raw, media_type or "application/octet-stream", name=part.filename or None
        )
    if kind == "url":
        return Content.from_uri(uri=part.url, media_type=media_type)
    if kind == "data":
        return Content.from_text(text=encode_json(MessageToDict(part.data)).decode())
    raise InvalidParamsError(f"Part {index} of the message holds no text, file or data.")

"""A deterministic chat client: no network, no key, observable continuity."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Mapping, Sequence
from typing import Any, cast

from agent_framework import (
    BaseChatClient,
    ChatMiddlewareLayer,
    ChatResponse,
    ChatResponseUpdate,
    Content,
    FunctionInvocationLayer,
    Message,
    ResponseStream,
    UsageDetails,
)

__all__ = ["OfflineChatClient"]


class OfflineChatClient(
    FunctionInvocationLayer[Any],
    ChatMiddlewareLayer[Any],
    BaseChatClient[Any],
):
    """A chat client that answers from the conversation it is given, offline.

    It replies ``Echo: <last user message> (turn N)``, N being the number of user messages
    it can see, so session continuity is observable from outside. When the last user
    message names an available tool, it calls that tool; after a tool result it answers
    ``Tool <name> returned: <result>``. Streaming splits the reply into ``chunks`` updates.

    Args:
        delay: Seconds to wait before each streamed update (once per call when not
            streaming).
        error: Raise this from every call.
        fail_after_updates: With ``error`` and streaming, how many updates to yield first.
        chunks: How many updates a streamed reply is split into (at word boundaries).

    """

    OTEL_PROVIDER_NAME = "offline"

    def __init__(
        self,
        *,
        delay: float = 0.0,
        error: BaseException | None = None,
        fail_after_updates: int = 0,
        chunks: int = 4,
    ) -> None:
        super().__init__()
        if chunks < 1:
            raise ValueError("chunks must be at least 1")
        self.delay = delay
        self.error = error
        self.fail_after_updates = fail_after_updates
        self.chunks = chunks
        self.calls = 0
        self.last_messages: list[Message] = []

    def _inner_get_response(
        self,
        *,
        messages: Sequence[Message],
        stream: bool,
        options: Mapping[str, Any],
        **kwargs: Any,
    ) -> Awaitable[ChatResponse] | ResponseStream[ChatResponseUpdate, ChatResponse]:
        self.calls += 1
        self.last_messages = list(messages)
        contents = _reply(messages, options.get("tools") or ())
        response_id = f"offline-{self.calls}"
        if stream:
            return self._build_response_stream(self._stream(contents, response_id))
        return self._respond(contents, response_id)

    async def _respond(self, contents: list[Content], response_id: str) -> ChatResponse:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return ChatResponse(
            messages=[Message("assistant", contents)],
            response_id=response_id,
            usage_details=_usage(self.last_messages, contents),
        )

    async def _stream(
        self, contents: list[Content], response_id: str
    ) -> AsyncIterator[ChatResponseUpdate]:
        pieces: list[Content] = []
        for content in contents:
            if content.type == "text" and content.text:
                pieces.extend(Content.from_text(text=t) for t in _split(content.text, self.chunks))
            else:
                pieces.append(content)
        message_id = f"msg-{response_id}"
        for index, piece in enumerate(pieces):
            if self.error is not None and index == self.fail_after_updates:
                raise self.error
            if self.delay:
                await asyncio.sleep(self.delay)
            yield ChatResponseUpdate(
                contents=[piece],
                role="assistant",
                message_id=message_id,
                response_id=response_id,
            )
        if self.error is not None:
            raise self.error
        yield ChatResponseUpdate(
            contents=[Content.from_usage(usage_details=_usage(self.last_messages, contents))],
            role="assistant",
            message_id=message_id,
            response_id=response_id,
        )


def _reply(messages: Sequence[Message], tools: Any) -> list[Content]:
    """Decide the reply: a tool's result, a tool call, or the echo."""
    turn = sum(1 for message in messages if message.role == "user")
    last = messages[-1] if messages else Message("user", [""])
    if last.role == "tool":
        return [Content.from_text(text=_tool_answer(messages, last))]
    text = _describe(last)
    for tool in _tools(tools):
        if re.search(rf"\b{re.escape(tool.name)}\b", text, flags=re.IGNORECASE):
            return [
                Content.from_function_call(
                    call_id=f"call_{turn}_{tool.name}",
                    name=tool.name,
                    arguments=json.dumps(_arguments(tool, text)),
                )
            ]
    return [Content.from_text(text=f"Echo: {text} (turn {turn})")]


def _describe(message: Message) -> str:
    parts: list[str] = []
    for content in message.contents:
        if content.type == "text":
            parts.append(content.text or "")
        else:
            parts.append(f"[{_kind(content)}]")
    return " ".join(part for part in parts if part) or "(nothing)"


def _kind(content: Content) -> str:
    media_type = content.media_type or ""
    if media_type.startswith("image/"):
        return "image"
    return content.type


def _tools(tools: Any) -> list[Any]:
    sequence: Sequence[Any] = tools if isinstance(tools, Sequence) else [tools]  # pyright: ignore[reportUnknownVariableType]
    return [tool for tool in sequence if isinstance(getattr(tool, "name", None), str)]


def _arguments(tool: Any, text: str) -> dict[str, Any]:
    """``{}``, or the user's text for a tool with exactly one required string parameter."""
    schema_of = getattr(tool, "parameters", None)
    raw: object = schema_of() if callable(schema_of) else schema_of
    if not isinstance(raw, Mapping):
        return {}
    schema = cast("Mapping[str, Any]", raw)
    required: list[str] = list(schema.get("required") or [])
    properties: Mapping[str, Any] = schema.get("properties") or {}
    if len(required) == 1 and properties.get(required[0], {}).get("type") == "string":
        return {required[0]: text}
    return {}


def _tool_answer(messages: Sequence[Message], result_message: Message) -> str:
    names = {
        content.call_id: content.name
        for message in messages
        for content in message.contents
        if content.type == "function_call"
    }
    answers: list[str] = []
    for content in result_message.contents:
        if content.type == "function_result":
            name = names.get(content.call_id, "tool")
            answers.append(f"Tool {name} returned: {_result_text(content.result)}")
    return " ".join(answers) or "Tool returned nothing"


def _result_text(result: Any) -> str:
    if isinstance(result, list):
        items: list[Any] = result  # pyright: ignore[reportUnknownVariableType]
        return " ".join(_result_text(item) for item in items)
    if isinstance(result, Content):
        return result.text or ""
    return str(result)


def _split(text: str, chunks: int) -> list[str]:
    """Split ``text`` at word boundaries into at most ``chunks`` pieces that join to it."""
    words = re.findall(r"\S+\s*|\s+", text)
    if len(words) <= chunks:
        return words
    size = -(-len(words) // chunks)
    return ["".join(words[i : i + size]) for i in range(0, len(words), size)]


def _usage(messages: Sequence[Message], contents: Sequence[Content]) -> UsageDetails:
    """Count words as tokens, so usage is deterministic."""
    prompt = sum(len(message.text.split()) for message in messages)
    completion = sum(len((content.text or "").split()) for content in contents)
    return UsageDetails(
        input_token_count=prompt,
        output_token_count=completion,
        total_token_count=prompt + completion,
    )

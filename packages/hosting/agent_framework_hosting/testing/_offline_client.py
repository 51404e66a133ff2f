"""A deterministic chat client: no network, no key, observable continuity."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Mapping, Sequence
from itertools import pairwise
from typing import Any, NoReturn, cast

from agent_framework import (
    BaseChatClient,
    ChatAndFunctionMiddlewareTypes,
    ChatMiddlewareLayer,
    ChatOptions,
    ChatResponse,
    ChatResponseUpdate,
    Content,
    FinishReasonLiteral,
    FunctionInvocationConfiguration,
    FunctionInvocationLayer,
    Message,
    ResponseStream,
    UsageDetails,
)

__all__ = ["OfflineChatClient"]

_OUTPUT_KIND = "model_output_kind"
"""The framework's additional-properties key that marks a text content as a refusal."""

_WORD = re.compile(r"\S+\s*|\s+")
"""One word with the whitespace after it (or leading whitespace): pieces that join exactly."""


class OfflineChatClient(
    FunctionInvocationLayer[ChatOptions[None]],
    ChatMiddlewareLayer[ChatOptions[None]],
    BaseChatClient[ChatOptions[None]],
):
    """A chat client that answers from the conversation it is given, offline and deterministically.

    It is composed like the framework's own public clients (function invocation over chat
    middleware over :class:`~agent_framework.BaseChatClient`), so the tool calls it asks for
    are really invoked by the framework, and chat and function middleware run around it.
    Telemetry is not layered in.

    What it answers, from the messages it receives:

    * After a tool result (the last message has role ``"tool"``):
      ``Tool <name> returned: <result>``, the name looked up from the matching call.
    * When the last message is a user message naming available tools (a case-insensitive
      whole-word match): a function call per named tool, in the order the tools are given,
      with call ids ``call_<turn>_<index>``. The arguments are ``{}``, or
      ``{<param>: <the user's text>}`` for a tool whose schema has exactly one required
      parameter, a string. A ``tool_choice`` of ``"none"`` disables this, and
      ``allow_multiple_tool_calls=False`` limits it to the first named tool.
    * Otherwise: ``Echo: <last user message text> (turn N)``. A user message without text
      is described by the kinds of its contents, e.g. ``Echo: [image] (turn 1)``. With
      ``refusal`` set, that refusal instead: a text content marked as a refusal the way the
      framework's own clients mark one; with ``image`` set, a text reply ends with that image.

    With ``reasoning`` set, every reply starts with it as ``text_reasoning`` content (id
    ``rs-offline-<call>``), streamed in pieces like the text.

    With a ``max_tokens`` chat option, a reply of more words (reasoning and text, counted
    as tokens like the usage) is cut after that many, drops what would come after (an
    image), and finishes with ``length``, as a model stopped at its token limit does.
    Otherwise a reply finishes with ``stop``, or ``tool_calls`` when it calls tools.

    N is the number of user messages it can see, so session continuity is observable from
    outside: the second run in a session that keeps history answers ``(turn 2)``.

    Responses carry the role ``assistant``, a ``response_id`` and ``message_id`` unique per
    call (``offline-<call>`` and ``msg-offline-<call>``), and usage details counting words
    as tokens (reasoning words count as reasoning tokens too; ``cached_input_tokens`` of
    the input are reported as read from a cache), unless ``usage`` is off. A streamed reply
    is split at word boundaries into ``chunks`` text updates (fewer when it has fewer
    words), or into pieces of ``chunk_chars`` characters, that join to exactly the whole
    reply; a final update carries only the usage.

    Examples:
        .. code-block:: python

            from agent_framework import Agent, tool


            @tool(description="Report the weather in a city.")
            def get_weather(city: str) -> str:
                return f"Sunny in {city}"


            agent = Agent(client=OfflineChatClient(), tools=[get_weather])
            session = agent.create_session()
            await agent.run("hello", session=session)  # "Echo: hello (turn 1)"
            await agent.run("get_weather please", session=session)
            # "Tool get_weather returned: Sunny in get_weather please"

    Attributes:
        delay: Seconds awaited before each streamed content update, or once per
            non-streaming call.
        error: The error every call raises, or ``None``.
        fail_after_updates: How many content updates a failing streamed call yields first.
        chunks: The most text updates a streamed reply is split into.
        chunk_chars: The size of each streamed text piece instead, or ``None``.
        reasoning: The reasoning every reply starts with, or ``None``.
        refusal: The refusal that replaces the echo, or ``None``.
        image: The image content the echo ends with, or ``None``.
        usage: Whether replies report their usage.
        cached_input_tokens: How many input tokens a reply reports as cached.
        calls: How many model calls this client has received (a tool round trip is two).
        last_messages: The messages of the latest call, as the client received them.

    """

    OTEL_PROVIDER_NAME = "offline"

    def __init__(
        self,
        *,
        delay: float = 0.0,
        error: BaseException | None = None,
        fail_after_updates: int = 0,
        chunks: int = 4,
        chunk_chars: int | None = None,
        reasoning: str | None = None,
        refusal: str | None = None,
        image: Content | None = None,
        usage: bool = True,
        cached_input_tokens: int = 0,
        middleware: Sequence[ChatAndFunctionMiddlewareTypes] | None = None,
        function_invocation_configuration: FunctionInvocationConfiguration | None = None,
    ) -> None:
        """Create the client.

        Args:
            delay: Seconds to ``asyncio.sleep`` before each streamed content update, or once
                per call when not streaming. ``0`` does not sleep at all.
            error: Raise this from every call: a non-streaming call raises it when awaited, a
                streamed call while being iterated, after ``fail_after_updates`` updates.
            fail_after_updates: With ``error``, how many content updates a streamed call
                yields before raising; ``0`` raises before the first update. When it is at
                least the number of content updates, the error replaces the usage update.
            chunks: How many text updates a streamed reply is split into, at most.
            chunk_chars: Split a streamed reply into pieces of this many characters
                instead, cutting words: every boundary a model's stream may have.
            reasoning: Reasoning every reply starts with, as ``text_reasoning`` content.
            refusal: Answer with this refusal instead of the echo.
            image: An image (``data`` or ``uri`` content) the echo ends with.
            usage: Report usage details; ``False`` reports none.
            cached_input_tokens: Report this many input tokens (at most all of them) as
                read from a cache.
            middleware: Chat and function middleware to run around every call.
            function_invocation_configuration: Settings of the framework's tool loop.

        Raises:
            ValueError: If ``chunks`` or ``chunk_chars`` is less than 1, or ``delay``,
                ``fail_after_updates`` or ``cached_input_tokens`` is negative.

        """
        if chunks < 1:
            raise ValueError("chunks must be at least 1")
        if chunk_chars is not None and chunk_chars < 1:
            raise ValueError("chunk_chars must be at least 1")
        if delay < 0:
            raise ValueError("delay must not be negative")
        if fail_after_updates < 0:
            raise ValueError("fail_after_updates must not be negative")
        if cached_input_tokens < 0:
            raise ValueError("cached_input_tokens must not be negative")
        super().__init__(
            middleware=middleware,
            function_invocation_configuration=function_invocation_configuration,
        )
        self.delay = delay
        self.error = error
        self.fail_after_updates = fail_after_updates
        self.chunks = chunks
        self.chunk_chars = chunk_chars
        self.reasoning = reasoning
        self.refusal = refusal
        self.image = image
        self.usage = usage
        self.cached_input_tokens = cached_input_tokens
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
        """Answer one model call.

        Args:
            messages: The conversation as the framework prepared it for the model.
            stream: Whether to answer with a stream of updates.
            options: The chat options; ``tools``, ``tool_choice``,
                ``allow_multiple_tool_calls`` and ``max_tokens`` are read.
            **kwargs: Further client arguments, ignored.

        Returns:
            An awaitable response, or a response stream when ``stream`` is true.

        """
        self.calls += 1
        self.last_messages = list(messages)
        response_id = f"offline-{self.calls}"
        contents = self._decorate(_reply(messages, options, refusal=self.refusal), response_id)
        finish = _finish_reason(contents)
        limit: object = options.get("max_tokens")
        cut = _cut(contents, limit) if isinstance(limit, int) else None
        if cut is not None:
            contents, finish = cut, "length"
        usage = _usage(messages, contents, cached=self.cached_input_tokens) if self.usage else None
        if stream:
            return self._build_response_stream(self._stream(contents, usage, response_id, finish))
        return self._respond(contents, usage, response_id, finish)

    def _decorate(self, contents: list[Content], response_id: str) -> list[Content]:
        """The reply with the configured reasoning before it and image after an echo."""
        if self.image is not None and _finish_reason(contents) == "stop" and not _refuses(contents):
            contents = [*contents, self.image]
        if self.reasoning:
            thought = Content.from_text_reasoning(id=f"rs-{response_id}", text=self.reasoning)
            contents = [thought, *contents]
        return contents

    async def _respond(
        self,
        contents: list[Content],
        usage: UsageDetails | None,
        response_id: str,
        finish: FinishReasonLiteral,
    ) -> ChatResponse:
        """Build the non-streaming response, after the delay (or raise the error)."""
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.error is not None:
            self._raise()
        return ChatResponse(
            messages=[Message("assistant", contents, message_id=f"msg-{response_id}")],
            response_id=response_id,
            finish_reason=finish,
            usage_details=usage,
        )

    async def _stream(
        self,
        contents: list[Content],
        usage: UsageDetails | None,
        response_id: str,
        finish: FinishReasonLiteral,
    ) -> AsyncIterator[ChatResponseUpdate]:
        """Yield the reply in pieces, then its usage (or raise the error part way)."""
        pieces: list[Content] = []
        for content in contents:
            if content.type in ("text", "text_reasoning") and content.text:
                texts = _split(content.text, self.chunks, self.chunk_chars)
                pieces.extend(_piece(content, text) for text in texts)
            else:
                pieces.append(content)
        message_id = f"msg-{response_id}"
        for index, piece in enumerate(pieces):
            if self.error is not None and index >= self.fail_after_updates:
                self._raise()
            if self.delay:
                await asyncio.sleep(self.delay)
            yield ChatResponseUpdate(
                contents=[piece],
                role="assistant",
                message_id=message_id,
                response_id=response_id,
            )
        if self.error is not None:
            self._raise()
        yield ChatResponseUpdate(
            contents=[] if usage is None else [Content.from_usage(usage)],
            role="assistant",
            message_id=message_id,
            response_id=response_id,
            finish_reason=finish,
        )

    def _raise(self) -> NoReturn:
        """Raise the configured error with a fresh traceback, so repeats don't pile up."""
        error = cast("BaseException", self.error)
        raise error.with_traceback(None)


def _piece(content: Content, text: str) -> Content:
    """A streamed piece of a text or reasoning content: same kind, id and marks."""
    if content.type == "text_reasoning":
        return Content.from_text_reasoning(id=content.id, text=text)
    return Content.from_text(text, additional_properties=dict(content.additional_properties))


def _refuses(contents: Sequence[Content]) -> bool:
    """Whether the reply is a refusal."""
    return any(content.additional_properties.get(_OUTPUT_KIND) == "refusal" for content in contents)


def _refusal(text: str) -> Content:
    """A refusal, marked the way the framework's clients mark one (and its legacy form)."""
    marks: dict[str, Any] = {"core": {_OUTPUT_KIND: "refusal"}, _OUTPUT_KIND: "refusal"}
    return Content.from_text(text, additional_properties=marks)


def _reply(
    messages: Sequence[Message], options: Mapping[str, Any], *, refusal: str | None
) -> list[Content]:
    """Decide the reply: a tool's result, tool calls, the refusal or the echo."""
    turn = sum(1 for message in messages if message.role == "user")
    last = messages[-1] if messages else None
    if last is not None and last.role == "tool":
        return [Content.from_text(_tool_answer(messages, last))]
    if last is not None and last.role == "user" and _tools_allowed(options):
        text = last.text
        calls = [
            Content.from_function_call(
                f"call_{turn}_{index}",
                name,
                arguments=json.dumps(arguments),
            )
            for index, (name, arguments) in enumerate(_named_tools(options, text))
        ]
        if calls:
            # Without parallel calls the model asks for one tool at a time.
            return calls if options.get("allow_multiple_tool_calls") is not False else calls[:1]
    if refusal is not None:
        return [_refusal(refusal)]
    user = next((message for message in reversed(messages) if message.role == "user"), None)
    return [Content.from_text(f"Echo: {_describe(user)} (turn {turn})")]


def _tools_allowed(options: Mapping[str, Any]) -> bool:
    """Whether ``tool_choice`` leaves the model free to call tools."""
    choice: object = options.get("tool_choice")
    if isinstance(choice, Mapping):
        choice = cast("Mapping[str, Any]", choice).get("mode")
    return choice != "none"


def _named_tools(options: Mapping[str, Any], text: str) -> list[tuple[str, dict[str, Any]]]:
    """The available tools ``text`` names as whole words, with the arguments to call them."""
    raw: object = options.get("tools")
    if raw is None:
        return []
    tools: Sequence[object] = (
        cast("Sequence[object]", raw)
        if isinstance(raw, Sequence) and not isinstance(raw, str)
        else [raw]
    )
    named: list[tuple[str, dict[str, Any]]] = []
    for tool in tools:
        name = getattr(tool, "name", None)
        if not isinstance(name, str) or not name:
            continue
        if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, flags=re.IGNORECASE):
            named.append((name, _arguments(tool, text)))
    return named


def _arguments(tool: object, text: str) -> dict[str, Any]:
    """``{}``, or ``{param: text}`` for a tool with exactly one required string parameter."""
    schema_of: object = getattr(tool, "parameters", None)
    raw: object = schema_of() if callable(schema_of) else schema_of
    if not isinstance(raw, Mapping):
        return {}
    schema = cast("Mapping[str, Any]", raw)
    required: object = schema.get("required")
    properties: object = schema.get("properties")
    if not isinstance(required, Sequence) or not isinstance(properties, Mapping):
        return {}
    required_names = list(cast("Sequence[object]", required))
    if len(required_names) != 1 or not isinstance(required_names[0], str):
        return {}
    parameter: object = cast("Mapping[str, Any]", properties).get(required_names[0])
    if isinstance(parameter, Mapping) and cast("Mapping[str, Any]", parameter).get("type") == (
        "string"
    ):
        return {required_names[0]: text}
    return {}


def _describe(message: Message | None) -> str:
    """A user message's text, or the kinds of its contents in brackets when it has none."""
    if message is None:
        return "[nothing]"
    if message.text:
        return message.text
    kinds = [f"[{_kind(content)}]" for content in message.contents if content.type != "text"]
    return " ".join(kinds) or "[nothing]"


def _kind(content: Content) -> str:
    """``image``, ``audio``, ``video`` or ``file`` for media, else the content type."""
    media_type = content.media_type or ""
    major = media_type.partition("/")[0]
    if major in ("image", "audio", "video"):
        return major
    if media_type:
        return "file"
    return content.type


def _tool_answer(messages: Sequence[Message], result_message: Message) -> str:
    """``Tool <name> returned: <result>`` for each function result of the last message."""
    answers: list[str] = []
    for content in result_message.contents:
        if content.type != "function_result":
            continue
        name = _call_name(messages, content.call_id)
        answers.append(f"Tool {name} returned: {_result_text(content)}")
    return "; ".join(answers) or "Tool returned nothing"


def _call_name(messages: Sequence[Message], call_id: str | None) -> str:
    """The name of the function call with ``call_id``, the latest first."""
    for message in reversed(messages):
        for content in message.contents:
            if content.type == "function_call" and content.call_id == call_id and content.name:
                return content.name
    return "tool"


def _result_text(content: Content) -> str:
    """A function result as text: its result, or its exception."""
    if content.result is None and content.exception:
        return content.exception
    return _text_of(content.result)


def _text_of(value: object) -> str:
    """Text for a result value, which may be a content or a list of them."""
    if isinstance(value, Content):
        return value.text if value.text is not None else value.type
    if isinstance(value, list):
        return " ".join(_text_of(item) for item in cast("list[object]", value))
    return str(value)


def _split(text: str, chunks: int, chunk_chars: int | None = None) -> list[str]:
    """Split ``text`` at word boundaries into at most ``chunks`` near-equal pieces.

    The pieces join to exactly ``text``; with fewer words than ``chunks`` each word is a
    piece. With ``chunk_chars``, the pieces are that many characters each instead (the
    last may be shorter), wherever that cuts.
    """
    if chunk_chars is not None:
        return [text[start : start + chunk_chars] for start in range(0, len(text), chunk_chars)]
    words: list[str] = _WORD.findall(text)
    if len(words) <= chunks:
        return words
    bounds = [len(words) * index // chunks for index in range(chunks + 1)]
    return ["".join(words[start:end]) for start, end in pairwise(bounds)]


def _cut(contents: list[Content], limit: int) -> list[Content] | None:
    """The reply cut after ``limit`` words of reasoning and text, or ``None`` when it fits."""
    kept: list[Content] = []
    for content in contents:
        text = content.text if content.type in ("text", "text_reasoning") else None
        words = len(text.split()) if text else 0
        if text and words > limit:
            if limit > 0:
                kept.append(_piece(content, _first_words(text, limit)))
            return kept
        kept.append(content)
        limit -= words
    return None


def _first_words(text: str, count: int) -> str:
    """The start of ``text`` up to the end of its ``count``-th word."""
    taken: list[str] = []
    for piece in _WORD.findall(text):
        taken.append(piece)
        if not piece.isspace():
            count -= 1
        if count == 0:
            break
    return "".join(taken).rstrip()


def _finish_reason(contents: Sequence[Content]) -> FinishReasonLiteral:
    """``tool_calls`` when the reply calls tools, else ``stop``."""
    if any(content.type == "function_call" for content in contents):
        return "tool_calls"
    return "stop"


def _usage(
    messages: Sequence[Message], contents: Sequence[Content], *, cached: int
) -> UsageDetails:
    """Count words as tokens, so usage is deterministic."""
    prompt = sum(len(message.text.split()) for message in messages)
    completion = sum(len((content.text or "").split()) for content in contents)
    reasoning = sum(
        len((content.text or "").split())
        for content in contents
        if content.type == "text_reasoning"
    )
    return UsageDetails(
        input_token_count=prompt,
        output_token_count=completion,
        total_token_count=prompt + completion,
        cache_read_input_token_count=min(cached, prompt),
        reasoning_output_token_count=reasoning,
    )

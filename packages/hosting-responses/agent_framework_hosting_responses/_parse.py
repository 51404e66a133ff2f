"""Wire → `ChannelRequest`: validating a Responses request body.

:func:`validate_request` and :func:`identity_of` are the channel's own; the package's
exported, alpha-shaped helpers (``_helpers``) are built on them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from agent_framework import FunctionTool, Message
from agent_framework_hosting import ChannelIdentity, IsolationKeys, Principal

from ._errors import ResponsesError
from ._input_items import messages_from_responses_input
from ._tools import parse_tool_choice, parse_tools

__all__ = [
    "ResponsesRequest",
    "check_service_tier",
    "identity_of",
    "metadata_of",
    "short_key",
    "validate_request",
]


def _is_default(value: Any, *defaults: Any) -> bool:
    # By type too: false is not the integer 0 here.
    return value is None or any(
        type(value) is type(default) and value == default for default in defaults
    )


# Fields a later version implements. Until then a non-default value is a 400, never a
# silently different behaviour.
_UNSUPPORTED: dict[str, Callable[[Any], bool]] = {
    "max_tool_calls": lambda v: v is None,
    "prompt": lambda v: v is None,
    "include": lambda v: _is_default(v, []),
    "reasoning": lambda v: v is None,
    "top_logprobs": lambda v: _is_default(v, 0),
    "text": lambda v: v is None or v == {} or v == {"format": {"type": "text"}},
}
# Why a field is refused outright, where a later version cannot simply add it.
_REFUSED_BECAUSE = {
    "max_tool_calls": (
        "the agent runs its tools in its own loop, which a request cannot cap exactly "
        "(the framework's limit is set per chat client and checked only after each batch "
        "of parallel calls); cap the agent's client with "
        "function_invocation_configuration['max_function_calls'] instead"
    ),
}
_ACCEPTED = frozenset(
    {
        "model",
        "input",
        "instructions",
        "stream",
        "stream_options",
        "previous_response_id",
        "conversation",
        "metadata",
        "temperature",
        "top_p",
        "max_output_tokens",
        "store",
        "user",
        "parallel_tool_calls",
        "tools",
        "tool_choice",
        "background",
        "service_tier",
        "safety_identifier",
        "prompt_cache_key",
        "presence_penalty",
        "frequency_penalty",
        "truncation",
    }
)


# Sampling fields: passed to the agent under their own names, within these bounds.
_SAMPLING = {
    "temperature": (0.0, 2.0),
    "top_p": (0.0, 1.0),
    "presence_penalty": (-2.0, 2.0),
    "frequency_penalty": (-2.0, 2.0),
}
_MIN_OUTPUT_TOKENS = 16
_OPTION_FIELDS = {
    **{name: name for name in _SAMPLING},
    "max_tokens": "max_output_tokens",
    "tools": "tools",
    "tool_choice": "tool_choice",
}
"""The run options a workflow cannot take, and the request field that sets each.

``parallel_tool_calls`` is not one: with no tools to call it asks for nothing, and
``tool_choice`` ``"auto"`` is what a workflow's agents do anyway.
"""
_SERVICE_TIERS = ("auto", "default", "flex", "priority")
_TRUNCATIONS = ("disabled", "auto")
_STREAM_OPTIONS = frozenset({"include_obfuscation"})
_MAX_KEY_LENGTH = 64
"""The longest ``safety_identifier`` and ``prompt_cache_key`` the specification allows."""


@dataclass(slots=True)
class ResponsesRequest:
    """A validated ``POST /responses`` body."""

    body: Mapping[str, Any]
    model: str
    messages: list[Message]
    instructions: str | None = None
    stream: bool = False
    store: bool = True
    previous_response_id: str | None = None
    conversation: str | None = None
    metadata: dict[str, str] = field(default_factory=dict[str, str])
    options: dict[str, Any] = field(default_factory=dict[str, Any])
    tools: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    tool_choice: Any = "auto"
    background: bool = False
    safety_identifier: str | None = None
    prompt_cache_key: str | None = None
    user: str | None = None


def validate_request(
    body: Any, *, target_tool_names: Collection[str] = frozenset(), takes_options: bool = True
) -> ResponsesRequest:
    """Validate a request body; raise :class:`ResponsesError` (400) on bad input.

    ``target_tool_names`` are the agent's own tools: a declared tool must not take one
    of their names. A target that does not take run options (a workflow) refuses every
    field that would set one, rather than drop it.
    """
    if not isinstance(body, dict):
        raise ResponsesError("The request body must be a JSON object.", code="invalid_type")
    fields = cast("dict[str, Any]", body)
    for name in fields:
        if name in _UNSUPPORTED:
            if not _UNSUPPORTED[name](fields[name]):
                reason = _REFUSED_BECAUSE.get(name)
                raise ResponsesError(
                    f"'{name}' is not supported by this server: {reason}."
                    if reason
                    else f"'{name}' is not supported by this server yet.",
                    param=name,
                    code="unsupported_parameter",
                )
        elif name not in _ACCEPTED:
            raise ResponsesError(
                f"Unrecognized request argument: '{name}'.", param=name, code="unknown_parameter"
            )
    if "input" not in fields:
        raise ResponsesError(
            "'input' is required.", param="input", code="missing_required_parameter"
        )
    options = _sampling_options(fields)
    tools, tool_choice = _tool_options(fields, target_tool_names, options)
    if not takes_options:
        _refuse_options(options)
    background = _optional(fields, "background", bool, "a boolean") or False
    if background and fields.get("store") is False:
        raise ResponsesError(
            "A background response must be stored: drop 'store': false.",
            param="store",
            code="invalid_value",
        )
    check_service_tier(fields.get("service_tier"))
    _truncation(fields)
    _stream_options(fields.get("stream_options"))
    return ResponsesRequest(
        background=background,
        tools=tools,
        tool_choice=tool_choice,
        body=fields,
        model=_optional(fields, "model", str, "a string") or "agent",
        messages=messages_from_responses_input(fields["input"]),
        instructions=_optional(fields, "instructions", str, "a string"),
        stream=_optional(fields, "stream", bool, "a boolean") or False,
        store=_optional(fields, "store", bool, "a boolean") is not False,
        previous_response_id=_optional(fields, "previous_response_id", str, "a string"),
        conversation=_conversation(fields),
        metadata=metadata_of(fields.get("metadata")),
        options=options,
        safety_identifier=short_key(fields, "safety_identifier"),
        prompt_cache_key=short_key(fields, "prompt_cache_key"),
        user=_optional(fields, "user", str, "a string"),
    )


def _sampling_options(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The chat options of the sampling fields and ``max_output_tokens``, range-checked."""
    options: dict[str, Any] = {}
    for name, (lowest, highest) in _SAMPLING.items():
        value = _optional(fields, name, (int, float), "a number")
        if value is None:
            continue
        if not lowest <= value <= highest:
            raise ResponsesError(
                f"'{name}' must be between {lowest:g} and {highest:g}.",
                param=name,
                code="invalid_value",
            )
        options[name] = float(value)
    max_output_tokens = _optional(fields, "max_output_tokens", int, "an integer")
    if max_output_tokens is not None:
        if max_output_tokens < _MIN_OUTPUT_TOKENS:
            raise ResponsesError(
                f"'max_output_tokens' must be at least {_MIN_OUTPUT_TOKENS}.",
                param="max_output_tokens",
                code="invalid_value",
            )
        options["max_tokens"] = max_output_tokens
    return options


def _refuse_options(options: Mapping[str, Any]) -> None:
    """Refuse the run options of a request to a target that takes none (a workflow)."""
    for key, name in _OPTION_FIELDS.items():
        if key in options and not (key == "tool_choice" and options[key] == "auto"):
            raise ResponsesError(
                f"'{name}' is not supported by this server: it serves a workflow, whose "
                "agents run with their own options and tools.",
                param=name,
                code="unsupported_parameter",
            )


def _tool_options(
    fields: Mapping[str, Any], target_tool_names: Collection[str], options: dict[str, Any]
) -> tuple[list[dict[str, Any]], Any]:
    """Add the tool options to ``options``; the tools and ``tool_choice`` the response echoes."""
    declared: list[FunctionTool] = []
    tools: list[dict[str, Any]] = []
    if fields.get("tools") is not None:
        declared, tools = parse_tools(fields["tools"], target_tool_names)
    if declared:
        options["tools"] = declared
    mode, tool_choice = parse_tool_choice(
        fields.get("tool_choice"),
        {tool["name"] for tool in tools},
        any_tools=bool(declared or target_tool_names),
    )
    if mode is not None:
        options["tool_choice"] = mode
    parallel = _optional(fields, "parallel_tool_calls", bool, "a boolean")
    if parallel is not None:
        options["allow_multiple_tool_calls"] = parallel
    return tools, tool_choice


def check_service_tier(value: Any) -> None:
    """Check a ``service_tier``: one of the specification's tiers, or ``None``.

    Every tier is served alike, so the value asks for nothing this server could do
    differently; a response reports the tier it was served with, ``"default"``.
    """
    if value is not None and value not in _SERVICE_TIERS:
        raise ResponsesError(
            f"'service_tier' must be one of {', '.join(_SERVICE_TIERS)}.",
            param="service_tier",
            code="invalid_value",
        )


def _truncation(fields: Mapping[str, Any]) -> None:
    """Check ``truncation``: ``"disabled"``, the only strategy this server follows.

    ``"auto"`` would have the server drop items from the start of the context when it
    outgrows the model's window, and answer instead of failing; the channel knows neither
    the agent's model nor its window (its chat client does), and what the context holds
    is the agent's (its history and context providers), so it cannot be honoured.
    """
    value = _optional(fields, "truncation", str, "a string")
    if value is None or value == "disabled":
        return
    if value == "auto":
        raise ResponsesError(
            "'truncation' 'auto' is not supported by this server: the context the agent's "
            "model receives is the agent's (its history and context providers), and the "
            "channel does not know that model's context window; send 'disabled' or leave "
            "it out.",
            param="truncation",
            code="unsupported_parameter",
        )
    raise ResponsesError(
        f"'truncation' must be one of {', '.join(_TRUNCATIONS)}.",
        param="truncation",
        code="invalid_value",
    )


def short_key(fields: Mapping[str, Any], name: str) -> str | None:
    """A string field of at most 64 characters (``safety_identifier``, ``prompt_cache_key``)."""
    value = _optional(fields, name, str, "a string")
    if value is not None and len(value) > _MAX_KEY_LENGTH:
        raise ResponsesError(
            f"'{name}' must be at most {_MAX_KEY_LENGTH} characters.",
            param=name,
            code="invalid_value",
        )
    return value


def _stream_options(value: Any) -> None:
    """Check ``stream_options``: an object whose ``include_obfuscation`` is a boolean."""
    if value is None:
        return
    if not isinstance(value, dict):
        raise ResponsesError(
            "'stream_options' must be an object.", param="stream_options", code="invalid_type"
        )
    options = cast("dict[str, Any]", value)
    for name in options:
        if name not in _STREAM_OPTIONS:
            raise ResponsesError(
                f"Unrecognized request argument: 'stream_options.{name}'.",
                param=f"stream_options.{name}",
                code="unknown_parameter",
            )
    _optional(options, "include_obfuscation", bool, "a boolean", where="stream_options.")


def _optional(
    fields: Mapping[str, Any], name: str, kind: Any, described: str, *, where: str = ""
) -> Any:
    value = fields.get(name)
    if value is None:
        return None
    # bool is an int subclass: a boolean is never a number here.
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        param = f"{where}{name}"
        raise ResponsesError(f"'{param}' must be {described}.", param=param, code="invalid_type")
    return value


def _conversation(fields: Mapping[str, Any]) -> str | None:
    """The conversation id: ``"conv_..."`` or ``{"id": "conv_..."}``."""
    value = fields.get("conversation")
    if value is None:
        return None
    if isinstance(value, dict):
        reference = cast("dict[str, Any]", value)
        unknown = next((name for name in reference if name != "id"), None)
        if unknown is not None:
            raise ResponsesError(
                f"Unrecognized request argument: 'conversation.{unknown}'.",
                param=f"conversation.{unknown}",
                code="unknown_parameter",
            )
        value = reference.get("id")
    if not isinstance(value, str) or not value:
        raise ResponsesError(
            "'conversation' must be a conversation id or an object with its 'id'.",
            param="conversation",
            code="invalid_type",
        )
    if fields.get("previous_response_id") is not None:
        raise ResponsesError(
            "'conversation' and 'previous_response_id' cannot be used together: "
            "a conversation continues from its own latest state.",
            param="previous_response_id",
            code="invalid_value",
        )
    return value


def metadata_of(value: Any) -> dict[str, str]:
    """Validated ``metadata``: up to 16 string pairs (``None`` is empty)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ResponsesError("'metadata' must be an object.", param="metadata", code="invalid_type")
    entries = cast("dict[Any, Any]", value)
    if len(entries) > 16 or not all(
        isinstance(k, str) and isinstance(v, str) and len(k) <= 64 and len(v) <= 512
        for k, v in entries.items()
    ):
        raise ResponsesError(
            "'metadata' holds at most 16 string pairs (keys ≤ 64, values ≤ 512 characters).",
            param="metadata",
            code="invalid_value",
        )
    return cast("dict[str, str]", entries)


def identity_of(
    keys: IsolationKeys, body: Mapping[str, Any], principal: Principal | None = None
) -> ChannelIdentity:
    """Who is calling, in the channel's terms.

    The principal's partition, else the trusted user key, else the body's ``user``, else
    ``anonymous``.
    """
    user = body.get("user") or body.get("safety_identifier")
    native_id = (
        (principal.partition if principal is not None else None)
        or keys.user_key
        or (user if isinstance(user, str) else None)
        or "anonymous"
    )
    return ChannelIdentity(channel="responses", native_id=native_id)

"""The package's parsing helpers: a Responses body read outside the channel.

They keep the call shapes apps written for the 1.0.0a260625 alpha use, and validate as
the channel does: bad input raises :class:`ResponsesError`, a ``ValueError`` carrying
the OpenAI error's ``param`` and ``code``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent_framework import Message
from agent_framework_hosting import ChannelIdentity, ChannelSession

from ._parse import validate_request

__all__ = ["parse_responses_identity", "parse_responses_request", "previous_response_key"]


def parse_responses_request(
    body: Any,
) -> tuple[list[Message], dict[str, Any], ChannelSession | None]:
    """A ``POST /responses`` body → its messages, its run options and its session.

    The body is checked as the channel checks it (with no agent tools to clash with).
    The options are the framework's chat options the channel passes the agent:
    ``temperature``, ``top_p``, ``presence_penalty``, ``frequency_penalty``,
    ``max_tokens`` (from ``max_output_tokens``), declared ``tools``, ``tool_choice``,
    ``allow_multiple_tool_calls`` (from ``parallel_tool_calls``) and ``instructions``,
    each only when the body sets it. The session is the conversation the body's
    ``previous_response_id`` continues (see :func:`previous_response_key`), or ``None``.

    Raises:
        ResponsesError: The body is not a valid request (a ``ValueError``).

    """
    parsed = validate_request(body)
    options = dict(parsed.options)
    if parsed.instructions:
        options["instructions"] = parsed.instructions
    session = None
    if parsed.previous_response_id is not None:
        session = ChannelSession(isolation_key=previous_response_key(parsed.previous_response_id))
    return parsed.messages, options, session


def previous_response_key(previous_response_id: str) -> str:
    """The isolation key :func:`parse_responses_request` gives a ``previous_response_id``.

    ``responses:previous:<id>``: in this channel's namespace, so an id a caller makes up
    never names another channel's conversation (``telegram:<chat>``). The id itself is
    the caller's word: a route continuing conversations by it should accept only ids it
    minted for that caller, as the channel does.
    """
    return f"responses:previous:{previous_response_id}"


def parse_responses_identity(body: Mapping[str, Any], channel_name: str) -> ChannelIdentity | None:
    """Who the body says is calling: its ``safety_identifier``, else its ``user``.

    ``None`` when it names no one (neither is a non-empty string). This is the caller's
    claim; the channel itself prefers an authenticated principal or a trusted isolation
    header to it.
    """
    for field in ("safety_identifier", "user"):
        value = body.get(field)
        if isinstance(value, str) and value:
            return ChannelIdentity(channel=channel_name, native_id=value)
    return None

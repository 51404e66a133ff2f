"""Hooks: force options before the run, redact card numbers from the reply, streamed too.

uv run samples/redaction_hooks.py        # PORT (default 8000)

A card number split across streamed updates ("4111 ", "1111 1111 ", "1111") is caught:
the StreamRedactor holds back the end of the text while it could still be the start of
a card number, so no piece of one is ever sent.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from agent_framework import Agent
from agent_framework_hosting import AgentFrameworkHost, ChannelRequest, StreamRedactor
from agent_framework_hosting.testing import OfflineChatClient
from agent_framework_hosting_responses import ResponsesChannel

CARD_NUMBER = r"\b(?:\d[ -]?){12,15}\d\b"
"""13 to 16 digits, spaces or dashes between them."""


def cap_output(request: ChannelRequest, *, target: Any, protocol_request: Any) -> ChannelRequest:
    """Run hook: whatever the caller asked, answers stay short."""
    return dataclasses.replace(request, options={**(request.options or {}), "max_tokens": 256})


def build_host(**offline: Any) -> AgentFrameworkHost:
    """The host; ``offline`` configures the offline agent (``chunk_chars=1`` to split a lot)."""
    cards = StreamRedactor(CARD_NUMBER, replacement="[card]")
    channel = ResponsesChannel(
        run_hook=cap_output,
        stream_update_hook=cards,  # the streamed deltas
        response_hook=cards.response_hook,  # the final reply: stored, and the closing events
    )
    return AgentFrameworkHost(Agent(client=OfflineChatClient(**offline)), channels=[channel])


if __name__ == "__main__":
    port = int(os.environ.get("PORT", "8000"))
    print(f"POST http://127.0.0.1:{port}/responses — card numbers come back as [card]")
    build_host().serve(host="127.0.0.1", port=port)

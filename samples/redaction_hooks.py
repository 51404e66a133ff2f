"""Hooks: force options before the run, redact the final reply and the streamed deltas.

uv run samples/redaction_hooks.py        # PORT (default 8000)
"""

from __future__ import annotations

import dataclasses
import os
import re
from typing import Any

from agent_framework import Agent, AgentResponse, AgentResponseUpdate, Content, Message
from agent_framework_hosting import AgentFrameworkHost, ChannelRequest, HostedRunResult
from agent_framework_hosting.testing import OfflineChatClient
from agent_framework_hosting_responses import ResponsesChannel

CARD_NUMBER = re.compile(r"\b(?:\d[ -]?){13,16}\b")


def cap_output(request: ChannelRequest, *, target: Any, protocol_request: Any) -> ChannelRequest:
    """Run hook: whatever the caller asked, answers stay short."""
    return dataclasses.replace(request, options={**(request.options or {}), "max_tokens": 256})


def redact_final(
    result: HostedRunResult, *, request: ChannelRequest, channel_name: str
) -> HostedRunResult:
    """Response hook: the final reply never carries a card number."""
    messages = [
        Message(message.role, [CARD_NUMBER.sub("[card]", message.text)])
        for message in result.result.messages
    ]
    return result.replace(result=AgentResponse(messages=messages))


def redact_update(update: AgentResponseUpdate) -> AgentResponseUpdate | None:
    """Stream hook: deltas are redacted too (a number split across deltas is caught by
    the response hook in the final reply, which is why both hooks are needed)."""
    if not update.text:
        return update
    return AgentResponseUpdate(
        contents=[Content.from_text(text=CARD_NUMBER.sub("[card]", update.text))], role="assistant"
    )


def build_host() -> AgentFrameworkHost:
    channel = ResponsesChannel(
        run_hook=cap_output, response_hook=redact_final, stream_update_hook=redact_update
    )
    return AgentFrameworkHost(Agent(client=OfflineChatClient()), channels=[channel])


if __name__ == "__main__":
    port = int(os.environ.get("PORT", "8000"))
    print(f"POST http://127.0.0.1:{port}/responses — card numbers come back as [card]")
    build_host().serve(host="127.0.0.1", port=port)

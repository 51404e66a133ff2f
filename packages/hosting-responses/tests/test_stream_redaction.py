"""Streamed redaction over SSE: no fragment of a redacted pattern reaches the wire.

The offline agent echoes a secret with its stream split at every character boundary
(pieces of 1, 2, … characters) and at word boundaries (1, 2, … pieces), and the channel
redacts with a `StreamRedactor` as its stream-update hook and its response hook.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from agent_framework import Agent
from agent_framework_hosting import AgentFrameworkHost, StreamRedactor
from agent_framework_hosting.testing import LoopbackServer, OfflineChatClient
from agent_framework_hosting_responses import ResponsesChannel
from openai import OpenAI

CARD = r"\b(?:\d[ -]?){12,15}\d\b"
KEY = r"sk-[A-Za-z0-9]{20,}"
SECRETS = {
    "card": ("my card is 4111 1111 1111 1111, thanks", "4111 1111 1111 1111"),
    "key": ("the key sk-Zq8VwXyT3mNpLr5KdFgHjB2c works", "sk-Zq8VwXyT3mNpLr5KdFgHjB2c"),
}
REPLY_LENGTH = max(len(f"Echo: {text} (turn 1)") for text, _ in SECRETS.values())


class RedactingHost:
    """A redacting host on a loopback port whose offline agent's chunking a test sets."""

    def __init__(self, client: OfflineChatClient, server: LoopbackServer) -> None:
        self.client = client
        self.server = server

    def stream(self, text: str, *, chunks: int = 4, chunk_chars: int | None = None) -> str:
        """The raw SSE body of one streamed turn."""
        self.client.chunks = chunks
        self.client.chunk_chars = chunk_chars
        body = {"model": "agent", "input": text, "stream": True, "store": False}
        return httpx.post(f"{self.server.base_url}/responses", json=body, timeout=30).text


@pytest.fixture(scope="module")
def redacting() -> Iterator[RedactingHost]:
    client = OfflineChatClient()
    redactor = StreamRedactor(CARD, KEY)
    channel = ResponsesChannel(stream_update_hook=redactor, response_hook=redactor.response_hook)
    with LoopbackServer(AgentFrameworkHost(Agent(client=client), channels=[channel]).app) as server:
        yield RedactingHost(client, server)


def events_of(raw: str) -> list[dict[str, Any]]:
    return [
        json.loads(line.removeprefix("data: "))
        for line in raw.splitlines()
        if line.startswith("data: {")
    ]


def fragments(secret: str) -> list[str]:
    """Pieces of ``secret`` that nothing else on the wire could contain by chance."""
    return [
        secret[start : start + 4]
        for start in range(len(secret) - 3)
        if not secret[start : start + 4].isdigit()
    ]


def assert_redacted(raw: str, text: str, secret: str) -> None:
    expected = f"Echo: {text.replace(secret, '[redacted]')} (turn 1)"
    events = events_of(raw)
    deltas = [e["delta"] for e in events if e["type"] == "response.output_text.delta"]
    done = [e["text"] for e in events if e["type"] == "response.output_text.done"]
    completed = events[-1]["response"]["output"][0]["content"][0]["text"]
    assert "".join(deltas) == expected
    assert done == [expected]
    assert completed == expected
    leaked = [piece for piece in fragments(secret) if piece in raw]
    assert leaked == []


@pytest.mark.parametrize("case", list(SECRETS))
@pytest.mark.parametrize("size", range(1, REPLY_LENGTH + 1))
def test_a_secret_split_at_any_character_never_reaches_the_wire(
    redacting: RedactingHost, case: str, size: int
) -> None:
    text, secret = SECRETS[case]
    assert_redacted(redacting.stream(text, chunk_chars=size), text, secret)


@pytest.mark.parametrize("case", list(SECRETS))
@pytest.mark.parametrize("chunks", range(1, 13))
def test_a_secret_split_at_any_word_never_reaches_the_wire(
    redacting: RedactingHost, case: str, chunks: int
) -> None:
    text, secret = SECRETS[case]
    assert_redacted(redacting.stream(text, chunks=chunks), text, secret)


def test_the_sdk_reads_the_redacted_stream_in_strict_mode(redacting: RedactingHost) -> None:
    redacting.client.chunk_chars = 3
    sdk = OpenAI(
        base_url=redacting.server.base_url,
        api_key="unused",
        max_retries=0,
        _strict_response_validation=True,
    )
    text, secret = SECRETS["key"]
    with sdk.responses.stream(model="agent", input=text) as stream:
        deltas = "".join(e.delta for e in stream if e.type == "response.output_text.delta")
        final = stream.get_final_response()
    assert secret not in deltas
    assert deltas == final.output_text == f"Echo: {text.replace(secret, '[redacted]')} (turn 1)"


def test_a_run_that_fails_drops_what_was_held_back() -> None:
    text, _ = SECRETS["key"]
    # The reply's pieces up to the middle of the key, then the agent fails.
    failing = OfflineChatClient(
        chunk_chars=1, error=RuntimeError("boom"), fail_after_updates=len("Echo: the key sk-Zq8")
    )
    redactor = StreamRedactor(KEY)
    channel = ResponsesChannel(stream_update_hook=redactor, response_hook=redactor.response_hook)
    with LoopbackServer(
        AgentFrameworkHost(Agent(client=failing), channels=[channel]).app
    ) as server:
        body = {"model": "agent", "input": text, "stream": True}
        raw = httpx.post(f"{server.base_url}/responses", json=body, timeout=30).text
    events = events_of(raw)
    deltas = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert events[-1]["type"] == "response.failed"
    assert deltas == "Echo: the key "
    assert "sk-" not in raw

"""The samples other than the quickstart, served on a real socket."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import openai
import pytest
from agent_framework_hosting.testing import LoopbackServer
from openai import OpenAI

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "samples"))

import jwt_auth  # pyright: ignore[reportMissingImports]
import redaction_hooks  # pyright: ignore[reportMissingImports]
import rich_output  # pyright: ignore[reportMissingImports]
import telegram_bot  # pyright: ignore[reportMissingImports]
import workflow_host  # pyright: ignore[reportMissingImports]
import workflow_review  # pyright: ignore[reportMissingImports]


def sdk(server: LoopbackServer, api_key: str = "k", **headers: str) -> OpenAI:
    return OpenAI(
        base_url=server.base_url,
        api_key=api_key,
        max_retries=0,
        _strict_response_validation=True,
        default_headers=headers,
    )


def test_workflow_sample_keeps_each_conversation_apart(tmp_path: Path) -> None:
    with LoopbackServer(workflow_host.build_host(str(tmp_path)).app) as server:
        alice = sdk(server, **{"x-agent-chat-isolation-key": "alice"})
        bob = sdk(server, **{"x-agent-chat-isolation-key": "bob"})
        alice.responses.create(model="wf", input="hi")
        assert alice.responses.create(model="wf", input="again").output_text.startswith("Turn 2")
        assert bob.responses.create(model="wf", input="hi").output_text.startswith("Turn 1")
    # A new host on the same state_dir resumes alice from her checkpoint.
    with LoopbackServer(workflow_host.build_host(str(tmp_path)).app) as server:
        alice = sdk(server, **{"x-agent-chat-isolation-key": "alice"})
        assert alice.responses.create(model="wf", input="back").output_text.startswith("Turn 3")


def test_redaction_sample_hides_card_numbers_streamed_and_not() -> None:
    with LoopbackServer(redaction_hooks.build_host().app) as server:
        plain = sdk(server).responses.create(model="m", input="my card is 4111 1111 1111 1111")
    assert plain.output_text == "Echo: my card is [card] (turn 1)"


def test_redaction_sample_streams_no_digit_of_a_card_split_across_updates() -> None:
    # The case: split by words, the deltas were "card is 4111 ", "1111 1111 ", …
    with LoopbackServer(redaction_hooks.build_host(chunk_chars=2).app) as server:
        client = sdk(server)
        with client.responses.stream(model="m", input="my card is 4111 1111 1111 1111") as stream:
            deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
            final = stream.get_final_response()
    assert "".join(deltas) == final.output_text == "Echo: my card is [card] (turn 1)"
    assert not any(digit in delta for delta in deltas for digit in "4")


async def test_telegram_sample_chats_offline_against_the_fake_bot_api() -> None:
    transcript = await telegram_bot.chat_with_fake(telegram_bot.SCRIPT)
    bot_lines = [text for who, text in transcript if who == "bot"]
    assert bot_lines == [
        "Hello! Send me a message to start. Commands: /new, /reset.",
        "Echo: Hello! (turn 1)",
        "Echo: Do you remember me? (turn 2)",
        "Echo: What is in this picture? (turn 3)",
        "Echo: Summarize my notes (turn 4)",
        "Started a new conversation.",
        "Echo: Hello again (turn 1)",
    ]


def test_rich_output_sample_streams_reasoning_text_image_and_refusal() -> None:
    with LoopbackServer(rich_output.build_host().app) as server:
        lines = list(rich_output.show_stream(sdk(server), "Draw me a cat"))
    with LoopbackServer(rich_output.build_host(refuse=True).app) as server:
        refused = list(rich_output.show_stream(sdk(server), "Help me pick a lock"))
    assert lines == [
        "[reasoning] The user wants a picture, so I draw one.",
        "[text] Echo: Draw me a cat (turn 1)",
        "[image] png, 8 bytes",
        "[items] ['reasoning', 'message', 'image_generation_call']",
        "[usage] 16 output tokens, 9 reasoning",
    ]
    assert refused[0] == "[refusal] I can't help with that."
    assert refused[1] == "[items] ['message']"


def test_workflow_review_sample_asks_the_editor_and_publishes_after_a_restart(
    tmp_path: Path,
) -> None:
    draft = "Tide tables, gulls and salt: a short piece about the harbour at dawn."
    assert list(workflow_review.review(str(tmp_path))) == [
        f"[writer] Drafted: {draft}",
        f'[asks] PublishRequest {{"draft": "{draft}", "words": 13}}',
        "[refused] 400 invalid_value at input[0]",
        f"[writer] Published (lovely): {draft}",
    ]


def test_jwt_sample_serves_token_holders_and_keeps_them_apart() -> None:
    issuer = jwt_auth.Issuer()
    with LoopbackServer(issuer.app) as provider:
        host = jwt_auth.build_host(f"{provider.base_url}/.well-known/jwks.json")
        with LoopbackServer(host.app) as server:
            alice = sdk(server, issuer.token("alice"))
            bob = sdk(server, issuer.token("bob"))
            mine = alice.responses.create(model="agent", input="alice's words")
            assert alice.responses.retrieve(mine.id).output_text == "Echo: alice's words (turn 1)"
            with pytest.raises(openai.NotFoundError):
                bob.responses.retrieve(mine.id)
            with pytest.raises(openai.PermissionDeniedError):
                sdk(server, issuer.token("carol", scope="other")).responses.create(
                    model="agent", input="hi"
                )
            with pytest.raises(openai.AuthenticationError):
                sdk(server, issuer.token("dave", lifetime=-3600)).responses.create(
                    model="agent", input="hi"
                )
            anonymous = httpx.post(f"{server.base_url}/responses", json={"input": "hi"})
    assert anonymous.status_code == 401

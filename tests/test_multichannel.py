"""One host, two channels: a Telegram chat and OpenAI SDK callers share an agent, not sessions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from agent_framework import Agent
from agent_framework_hosting import AgentFrameworkHost
from agent_framework_hosting.testing import LoopbackServer, OfflineChatClient
from agent_framework_hosting_responses import ResponsesChannel
from agent_framework_hosting_telegram import TelegramChannel, telegram_isolation_key
from agent_framework_hosting_telegram.testing import FakeBotApi, wait_until

TOKEN = "777:multi-channel-token"
CHAT = 4242


@pytest.fixture
def fake() -> Iterator[tuple[FakeBotApi, str]]:
    api = FakeBotApi(TOKEN)
    with LoopbackServer(api.app) as server:
        yield api, server.base_url


def build_host(bot_api_url: str, state_dir: Path) -> AgentFrameworkHost:
    telegram = TelegramChannel(
        bot_token=TOKEN, api_base=bot_api_url, transport="polling", polling_timeout=1, stream=False
    )
    return AgentFrameworkHost(
        Agent(client=OfflineChatClient(), name="both"),
        channels=[ResponsesChannel(), telegram],
        state_dir=str(state_dir),
        trust_isolation_headers=True,
    )


async def telegram_says(fake: FakeBotApi, host: AgentFrameworkHost, text: str) -> str:
    channel = host.channels[1]
    assert isinstance(channel, TelegramChannel)
    seen = len(fake.texts(CHAT))
    update = fake.message_update(CHAT, text)
    fake.enqueue(update)
    await wait_until(
        lambda: fake.confirmed_offset > update["update_id"] and not channel.pending_updates,
        "the bot's answer",
    )
    return "\n".join(fake.texts(CHAT)[seen:])


def sdk(server: LoopbackServer, **headers: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        base_url=server.base_url,
        api_key="unused",
        max_retries=0,
        _strict_response_validation=True,
        default_headers=headers,
    )


async def test_channels_share_the_agent_but_never_each_others_sessions(
    fake: tuple[FakeBotApi, str], tmp_path: Path
) -> None:
    bot_api, bot_api_url = fake
    host = build_host(bot_api_url, tmp_path)
    telegram_key = telegram_isolation_key(CHAT)
    with LoopbackServer(host.app) as server:
        assert await telegram_says(bot_api, host, "hi from telegram") == (
            "Echo: hi from telegram (turn 1)"
        )

        client = sdk(server)
        first = await client.responses.create(model="agent", input="hi from the sdk")
        assert first.output_text == "Echo: hi from the sdk (turn 1)"
        # Another channel's key is not an id the Responses channel minted.
        with pytest.raises(openai.NotFoundError):
            await client.responses.create(
                model="agent", input="let me in", previous_response_id=telegram_key
            )
        # Even a trusted front end naming the same key reaches a Responses-only session.
        same_name = sdk(server, **{"x-agent-chat-isolation-key": telegram_key})
        spoof = await same_name.responses.create(model="agent", input="whose turn?")
        assert spoof.output_text == "Echo: whose turn? (turn 1)"

        assert await telegram_says(bot_api, host, "still me") == "Echo: still me (turn 2)"
        second = await client.responses.create(
            model="agent", input="and me", previous_response_id=first.id
        )
        assert second.output_text == "Echo: and me (turn 2)"

    # A new host on the same state_dir: both conversations go on where they were.
    host = build_host(bot_api_url, tmp_path)
    with LoopbackServer(host.app) as server:
        assert await telegram_says(bot_api, host, "after restart") == (
            "Echo: after restart (turn 3)"
        )
        third = await sdk(server).responses.create(
            model="agent", input="me too", previous_response_id=second.id
        )
        assert third.output_text == "Echo: me too (turn 3)"
        host.reset_session(telegram_key)
        assert await telegram_says(bot_api, host, "fresh") == "Echo: fresh (turn 1)"

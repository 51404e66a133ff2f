"""The core's conformance kit, run against the Telegram channel in both delivery modes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import httpx
import pytest
from agent_framework_hosting import Channel
from agent_framework_hosting.testing import (
    ChannelConformanceTests,
    ChannelHooks,
    ChannelReply,
    LoopbackServer,
    RunningHost,
)
from agent_framework_hosting_telegram import TelegramChannel, telegram_isolation_key
from agent_framework_hosting_telegram.testing import FakeBotApi
from telegram_harness import APOLOGY, SECRET, TOKEN, Bot, chat_of, telegram_channel


class _TelegramConformance(ChannelConformanceTests):
    transport: ClassVar[str]

    @pytest.fixture(autouse=True)
    def fake(self) -> Iterator[FakeBotApi]:
        self.fake_api = FakeBotApi(TOKEN)
        with LoopbackServer(self.fake_api.app) as server:
            self.fake_url = server.base_url
            yield self.fake_api

    def build_channel(self, hooks: ChannelHooks) -> Channel:
        return telegram_channel(
            self.fake_url,
            transport=self.transport,
            run_hook=hooks.run_hook,
            response_hook=hooks.response_hook,
            stream_update_hook=hooks.stream_update_hook,
        )

    def isolation_key(self, conversation: str) -> str:
        return telegram_isolation_key(chat_of(conversation))

    async def send_turn(
        self, running: RunningHost, text: str, *, conversation: str, stream: bool = False
    ) -> ChannelReply:
        bot = Bot(self.fake_api, running.host, running.server, running.client)
        channel = bot.channel
        channel.stream = stream
        turn = await bot.say(chat_of(conversation), text)
        raw = "\n".join(m.text or "" for m in turn.messages) + "\n".join(turn.previews)
        return ChannelReply(
            text=turn.text,
            is_error=turn.text == APOLOGY,
            status_code=turn.status_code,
            raw=raw,
            deltas=turn.previews,
        )

    async def send_bad_inputs(self, running: RunningHost) -> list[httpx.Response]:
        path = running.host.channels[0].path
        # Updates the Bot API could never send still must not stop the bot.
        for broken in ("oops", None):
            update = self.fake_api.message_update(1, "unused")
            update["message"] = broken
            self.fake_api.enqueue(update)
        if self.transport == "polling":
            # No webhook route: the path is not found.
            return [await running.client.post(path), await running.client.get(path)]
        return [
            await running.client.post(path, content=b"{oops", headers={_HEADER: SECRET}),
            await running.client.post(path, json=[1, 2], headers={_HEADER: SECRET}),
            await running.client.post(path, json={"message": {}}, headers={_HEADER: SECRET}),
            await running.client.post(path, json={"update_id": 1}, headers={_HEADER: "wrong"}),
            await running.client.post(path, json={"update_id": 2}),
        ]


_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class TestTelegramWebhookConformance(_TelegramConformance):
    transport = "webhook"


class TestTelegramPollingConformance(_TelegramConformance):
    transport = "polling"


def test_channel_keeps_the_alpha_signature() -> None:
    channel = TelegramChannel(bot_token=TOKEN)
    assert channel.name == "telegram"
    assert channel.path == "/telegram/webhook"
    assert channel.transport == "polling"
    assert telegram_isolation_key(42) == "telegram:42"

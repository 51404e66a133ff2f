"""The core's conformance kit, run against the Telegram channel in both delivery modes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

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
from agent_framework_hosting_telegram.testing import FakeBotApi, wait_until
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


_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class TestTelegramWebhookConformance(_TelegramConformance):
    transport = "webhook"
    authentication = "channel"  # the webhook's secret token

    async def send_unauthenticated_turn(
        self, running: RunningHost, text: str, *, conversation: str
    ) -> ChannelReply:
        bot = Bot(self.fake_api, running.host, running.server, running.client)
        update = self.fake_api.message_update(chat_of(conversation), text)
        status = await bot.deliver(update, secret=None)
        return ChannelReply("", is_error=status != 200, status_code=status)

    async def send_bad_inputs(self, running: RunningHost) -> list[httpx.Response]:
        path = running.host.channels[0].path
        return [
            await running.client.post(path, content=b"{oops", headers={_HEADER: SECRET}),
            await running.client.post(path, json=[1, 2], headers={_HEADER: SECRET}),
            await running.client.post(path, json={"message": {}}, headers={_HEADER: SECRET}),
            await running.client.post(
                path, json={"update_id": 3, "message": None}, headers={_HEADER: SECRET}
            ),
            await running.client.post(path, json={"update_id": 1}, headers={_HEADER: "wrong"}),
            await running.client.post(path, json={"update_id": 2}),
        ]


class TestTelegramPollingConformance(_TelegramConformance):
    transport = "polling"
    authentication = "platform"  # what getUpdates returns comes from Telegram itself

    def test_bad_input_is_a_client_error(self) -> None:
        async def check(running: RunningHost) -> None:
            # A polling bot has no route to post to: its input is what getUpdates returns.
            # Updates the Bot API could never send are skipped and confirmed, and the bot goes
            # on; none reaches the agent, or the turn after them would not be the first.
            fake = self.fake_api
            chat = chat_of("alpha")
            broken: list[dict[str, Any]] = []
            for field, value in [
                ("message", None),
                ("message", "oops"),
                ("text", ["x"]),
                ("chat", 5),
            ]:
                update = fake.message_update(chat, "broken")
                if field == "message":
                    update["message"] = value
                else:
                    update["message"][field] = value
                broken.append(update)
            for update in broken:
                fake.enqueue(update)
            last = broken[-1]["update_id"]
            await wait_until(lambda: fake.confirmed_offset > last, "the broken updates confirmed")
            reply = await self.send_turn(running, "still fine", conversation="alpha")
            assert reply.text == "Echo: still fine (turn 1)"
            assert fake.texts(chat) == ["Echo: still fine (turn 1)"]

        self.serve(check)


def test_channel_keeps_the_alpha_signature() -> None:
    channel = TelegramChannel(bot_token=TOKEN)
    assert channel.name == "telegram"
    assert channel.path == "/telegram/webhook"
    assert channel.transport == "polling"
    assert telegram_isolation_key(42) == "telegram:42"

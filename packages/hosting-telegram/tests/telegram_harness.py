"""Driving a Telegram bot hosted on a real server through the fake Bot API, as a user would."""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncGenerator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from agent_framework import Agent
from agent_framework_hosting import AgentFrameworkHost, ChannelRequest
from agent_framework_hosting.testing import LoopbackServer, OfflineChatClient
from agent_framework_hosting_telegram import TelegramChannel
from agent_framework_hosting_telegram.testing import FakeBotApi, SentMessage, wait_until

TOKEN = "424242:secret-token-abcdef"
SECRET = "webhook-secret"
APOLOGY = "Sorry, something went wrong. Please try again."


def chat_of(conversation: str) -> int:
    """A stable chat id for a conversation label."""
    return 10_000 + zlib.crc32(conversation.encode()) % 1_000_000


async def eventually(predicate: Callable[[], bool], what: str) -> None:
    """Wait until ``predicate()`` holds; fail naming ``what`` if it never does."""
    try:
        await wait_until(predicate, what, within=15.0)
    except TimeoutError as error:
        raise AssertionError(str(error)) from None


class Gate:
    """A run hook that holds every run until it is opened, counting the runs it holds."""

    def __init__(self) -> None:
        self._opened = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.held = 0
        self.most_held = 0

    def open(self) -> None:
        """Let the held runs go on (called from the test's thread, not the server's)."""
        assert self._loop is not None, "no run was held yet"
        self._loop.call_soon_threadsafe(self._opened.set)

    async def __call__(self, request: ChannelRequest, **_: Any) -> ChannelRequest:
        self._loop = asyncio.get_running_loop()
        self.held += 1
        self.most_held = max(self.most_held, self.held)
        try:
            await self._opened.wait()
        finally:
            self.held -= 1
        return request


@dataclass
class Turn:
    """What the bot sent for one user message."""

    messages: list[SentMessage]
    previews: list[str]
    status_code: int

    @property
    def text(self) -> str:
        return "\n".join(m.text for m in self.messages if m.text is not None)


@dataclass
class Bot:
    """A host serving a Telegram channel, with the fake Bot API it talks to."""

    fake: FakeBotApi
    host: AgentFrameworkHost
    server: LoopbackServer
    client: httpx.AsyncClient

    @property
    def channel(self) -> TelegramChannel:
        channel = self.host.channels[0]
        assert isinstance(channel, TelegramChannel)
        return channel

    async def deliver(self, update: dict[str, Any], *, secret: str | None = SECRET) -> int:
        """Hand ``update`` to the bot the way its transport receives updates."""
        if self.channel.transport == "polling":
            self.fake.enqueue(update)
            update_id = update["update_id"]
            await eventually(lambda: self.fake.confirmed_offset > update_id, "getUpdates")
            return 200
        headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
        response = await self.client.post(self.channel.path, json=update, headers=headers)
        return response.status_code

    async def idle(self) -> None:
        await eventually(lambda: self.channel.pending_updates == 0, "the bot to answer")

    async def say(self, chat_id: int, text: str | None = None, **message: Any) -> Turn:
        """Send a user message and return what the bot answered to it."""
        before = {m.message_id for m in self.fake.messages(chat_id)}
        first_call = len(self.fake.calls)
        update = self.fake.message_update(chat_id, text, **message)
        status = await self.deliver(update)
        await self.idle()
        new = [m for m in self.fake.messages(chat_id) if m.message_id not in before]
        if text is not None:
            # Concurrent turns in one chat: keep the replies that answer this text.
            new = [m for m in new if text in (m.text or "")] or new
        texts = [
            str(call.params.get("text"))
            for call in self.fake.calls[first_call:]
            if call.method in ("sendMessage", "editMessageText")
            and call.params.get("chat_id") == chat_id
        ]
        return Turn(new, texts[:-1], status)


def telegram_channel(
    fake_url: str, *, transport: str = "webhook", **options: Any
) -> TelegramChannel:
    """A channel pointed at the fake, polling quickly or taking webhooks with ``SECRET``."""
    if transport == "webhook":
        options.setdefault("secret_token", SECRET)
    else:
        options.setdefault("polling_timeout", 1)
    return TelegramChannel(
        bot_token=TOKEN,
        api_base=fake_url,
        transport=transport,  # pyright: ignore[reportArgumentType]
        **options,
    )


@asynccontextmanager
async def fake_bot_api(**options: Any) -> AsyncGenerator[tuple[FakeBotApi, LoopbackServer]]:
    """The fake Bot API on a loopback port."""
    fake = FakeBotApi(TOKEN, **options)
    with LoopbackServer(fake.app) as server:
        yield fake, server


@asynccontextmanager
async def running_bot(
    fake: FakeBotApi,
    channel: TelegramChannel,
    *,
    agent: Agent | None = None,
    state_dir: str | None = None,
) -> AsyncGenerator[Bot]:
    """A host serving ``channel`` on a loopback port."""
    host = AgentFrameworkHost(
        agent or Agent(client=OfflineChatClient(), name="telegram-test"),
        channels=[channel],
        state_dir=state_dir,
    )
    server = LoopbackServer(host.app).start()
    try:
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            yield Bot(fake, host, server, client)
    finally:
        server.stop()


@asynccontextmanager
async def bot_on_fake(
    *, agent: Agent | None = None, state_dir: str | None = None, **channel_options: Any
) -> AsyncGenerator[Bot]:
    """The fake Bot API and a host serving a channel built with ``channel_options``."""
    async with (
        fake_bot_api() as (fake, server),
        running_bot(
            fake,
            telegram_channel(server.base_url, **channel_options),
            agent=agent,
            state_dir=state_dir,
        ) as bot,
    ):
        yield bot

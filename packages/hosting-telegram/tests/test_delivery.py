"""How updates are taken in: per-chat order, a bound on updates held, redeliveries, shutdown."""

from __future__ import annotations

import asyncio
import base64
import logging
from pathlib import Path
from typing import Any

import pytest
from agent_framework_hosting import MemoryStateStore
from agent_framework_hosting_telegram._dispatch import SeenUpdates  # pyright: ignore[reportPrivateUsage]
from telegram_harness import (
    Bot,
    Gate,
    bot_on_fake,
    eventually,
    fake_bot_api,
    running_bot,
    telegram_channel,
)

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
TRANSPORTS = ["webhook", "polling"]


def not_a_message(bot: Bot) -> dict[str, Any]:
    """An update of a kind the channel accepts and leaves unanswered (an edited message)."""
    update = bot.fake.message_update(72, "edited")
    return {"update_id": update["update_id"], "edited_message": update["message"]}


async def deliver_all(bot: Bot, updates: list[dict[str, Any]]) -> list[int]:
    """Hand the updates over back to back: one ``getUpdates`` batch, or one POST after another."""
    if bot.channel.transport == "polling":
        for update in updates:
            bot.fake.enqueue(update)
        return [200] * len(updates)
    return [await bot.deliver(update) for update in updates]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_one_chats_updates_are_answered_in_arrival_order(transport: str) -> None:
    async with bot_on_fake(transport=transport) as bot:
        fake = bot.fake
        # The photo's download is retried after a backoff; nothing may overtake it.
        fake.fail_next("getFile", error_code=502, description="Bad Gateway")
        updates = [
            fake.message_update(31, None, photo=PNG, caption="the photo"),
            fake.message_update(31, "second"),
            fake.message_update(31, "/new"),
            fake.message_update(31, "third"),
        ]
        assert await deliver_all(bot, updates) == [200] * 4
        await eventually(lambda: len(fake.texts(31)) == 4, "four answers")
        await bot.idle()
        assert fake.texts(31) == [
            "Echo: the photo (turn 1)",
            "Echo: second (turn 2)",
            "Started a new conversation.",
            "Echo: third (turn 1)",
        ]
        assert len(fake.calls_of("getFile")) == 2


async def test_a_webhook_beyond_the_bound_answers_503_and_the_redelivery_is_answered() -> None:
    gate = Gate()
    async with bot_on_fake(max_concurrent_updates=2, run_hook=gate) as bot:
        fake = bot.fake
        first, second = fake.message_update(41, "one"), fake.message_update(42, "two")
        assert [await bot.deliver(first), await bot.deliver(second)] == [200, 200]
        await eventually(lambda: gate.held == 2, "two runs held")
        third = fake.message_update(43, "three")
        assert await bot.deliver(third) == 503
        assert bot.channel.pending_updates == 2
        gate.open()
        await bot.idle()
        # Refused, so not marked as seen: Telegram's redelivery is answered.
        assert await bot.deliver(third) == 200
        await bot.idle()
    assert gate.most_held == 2
    assert [fake.texts(chat) for chat in (41, 42, 43)] == [
        ["Echo: one (turn 1)"],
        ["Echo: two (turn 1)"],
        ["Echo: three (turn 1)"],
    ]


async def test_polling_fetches_no_more_updates_than_it_can_hold() -> None:
    gate = Gate()
    async with bot_on_fake(transport="polling", max_concurrent_updates=2, run_hook=gate) as bot:
        fake = bot.fake
        updates = [fake.message_update(50 + i, f"message {i}") for i in range(5)]
        await deliver_all(bot, updates)
        await eventually(lambda: gate.held == 2, "two runs held")
        # Full: the third update is neither fetched nor confirmed while the two are held.
        assert fake.confirmed_offset <= updates[2]["update_id"]
        assert bot.channel.pending_updates == 2
        gate.open()
        await eventually(
            lambda: all(fake.texts(50 + i) for i in range(5)), "every chat to be answered"
        )
        await bot.idle()
    assert gate.most_held == 2
    assert all(call.params["limit"] <= 2 for call in fake.calls_of("getUpdates"))
    assert [fake.texts(50 + i) for i in range(5)] == [
        [f"Echo: message {i} (turn 1)"] for i in range(5)
    ]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_updates_cut_off_at_shutdown_are_logged_and_answered_when_redelivered(
    transport: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    gate = Gate()  # never opened: the run is still held when the host stops
    async with fake_bot_api() as (fake, server):
        update = fake.message_update(61, "private words")
        stuck = telegram_channel(
            server.base_url, transport=transport, run_hook=gate, shutdown_timeout=0
        )
        with caplog.at_level(logging.WARNING, logger="agent_framework.hosting.telegram"):
            async with running_bot(fake, stuck, state_dir=str(tmp_path)) as bot:
                await deliver_all(bot, [update])
                await eventually(lambda: gate.held == 1, "the run to be held")
        assert stuck.pending_updates == 0
        (warning,) = [r.getMessage() for r in caplog.records if "cut off" in r.getMessage()]
        assert "1 Telegram update" in warning
        assert str(update["update_id"]) in warning
        assert "private words" not in warning
        assert fake.texts(61) == []

        channel = telegram_channel(server.base_url, transport=transport)
        async with running_bot(fake, channel, state_dir=str(tmp_path)) as bot:
            await deliver_all(bot, [update])
            await eventually(lambda: bool(fake.texts(61)), "the redelivery to be answered")
            await bot.idle()
    assert fake.texts(61) == ["Echo: private words (turn 1)"]


async def test_a_redelivery_is_recognized_however_many_updates_came_between() -> None:
    async with bot_on_fake(stream=False, max_concurrent_updates=2048) as bot:
        fake = bot.fake
        oldest = fake.message_update(71, "oldest")
        assert await bot.deliver(oldest) == 200
        for _ in range(1500):
            assert await bot.deliver(not_a_message(bot)) == 200
        await bot.idle()
        assert await bot.deliver(oldest) == 200
        await bot.idle()
    assert fake.texts(71) == ["Echo: oldest (turn 1)"]


async def test_a_seen_update_id_is_forgotten_after_its_time() -> None:
    seen = SeenUpdates(MemoryStateStore(), "bot", ttl=0.2)
    assert await seen.claim(1)
    assert not await seen.claim(1)
    await asyncio.sleep(0.4)
    assert await seen.claim(1)


async def test_a_forgotten_update_id_can_be_claimed_again() -> None:
    seen = SeenUpdates(MemoryStateStore(), "bot")
    assert await seen.claim(1)
    assert await seen.claim(2)
    await seen.forget([1])
    assert await seen.claim(1)
    assert not await seen.claim(2)

"""Several processes serving one bot by long polling: one polls at a time, another takes over.

Two hosts share one state (a ``state_dir``) and poll the same fake Bot API, which, as
Telegram does, ends the older of two concurrent ``getUpdates`` calls with ``409``. (A
host that stops leaves its last long poll waiting at the fake, which the next poller's
call ends: that ``409`` reaches nobody, so only the calls made while both run count.)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from agent_framework_hosting_telegram.testing import FakeBotApi
from telegram_harness import (
    chat_of,
    eventually,
    fake_bot_api,
    running_bot,
    telegram_channel,
)


def answered(fake: FakeBotApi, chat: int, count: int) -> Callable[[], bool]:
    return lambda: len(fake.texts(chat)) == count


async def test_one_of_two_polling_hosts_polls_and_the_other_takes_over(tmp_path: Path) -> None:
    chat = chat_of("replicas")
    async with fake_bot_api() as (fake, server):
        second_cm = running_bot(
            fake, telegram_channel(server.base_url, transport="polling"), state_dir=str(tmp_path)
        )
        async with running_bot(
            fake, telegram_channel(server.base_url, transport="polling"), state_dir=str(tmp_path)
        ):
            async with second_cm:
                for number in range(1, 5):
                    fake.enqueue(fake.message_update(chat, f"m{number}"))
                    await eventually(answered(fake, chat, number), f"answer {number}")
                # While both run, only one polls: Telegram would end the other's polls.
                conflicts = [e for e in fake.errors if e.method == "getUpdates"]
            # The second host stopped; the first keeps polling alone.
            fake.enqueue(fake.message_update(chat, "m5"))
            await eventually(answered(fake, chat, 5), "the fifth answer")
        async with running_bot(
            fake, telegram_channel(server.base_url, transport="polling"), state_dir=str(tmp_path)
        ):
            # The first host is gone too: a new one takes the bot's polling over.
            fake.enqueue(fake.message_update(chat, "m6"))
            await eventually(answered(fake, chat, 6), "the sixth answer")
    assert fake.texts(chat) == [f"Echo: m{n} (turn {n})" for n in range(1, 7)]
    assert conflicts == []

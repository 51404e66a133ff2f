"""The allowlist: only listed users or chats reach the agent; others are told once per chat."""

from __future__ import annotations

from typing import Any

import pytest
from agent_framework import Message
from agent_framework_hosting import ChannelRequest
from agent_framework_hosting_telegram import TelegramChannel
from telegram_harness import TOKEN, bot_on_fake

REFUSAL = "Sorry, this bot is private."
ALICE, BOB, CAROL = 101, 202, 303
GROUP = -500
TRANSPORTS = ["webhook", "polling"]


class Reached:
    def __init__(self) -> None:
        self.texts: list[str] = []

    def __call__(self, request: ChannelRequest, **_: Any) -> ChannelRequest:
        messages = request.input if isinstance(request.input, list) else []
        self.texts.extend(m.text for m in messages if isinstance(m, Message))
        return request


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_only_allowed_users_reach_the_agent(transport: str) -> None:
    reached = Reached()
    async with bot_on_fake(transport=transport, allowed_user_ids=[ALICE], run_hook=reached) as bot:
        alice = await bot.say(ALICE, "hello from alice")
        first = await bot.say(BOB, "hello from bob")
        second = await bot.say(BOB, "are you there?")
        command = await bot.say(BOB, "/new")
    assert "Echo: hello from alice (turn 1)" in alice.text
    assert first.text == REFUSAL
    # One refusal per chat: the next messages of the chat get no answer at all.
    assert second.messages == []
    assert command.messages == []
    assert reached.texts == ["hello from alice"]


async def test_each_chat_that_is_not_allowed_is_told_once() -> None:
    async with bot_on_fake(allowed_user_ids=[ALICE], not_allowed_reply="Members only.") as bot:
        for sender in (BOB, CAROL, BOB, CAROL):
            await bot.say(sender, "let me in")
    assert bot.fake.texts(BOB) == ["Members only."]
    assert bot.fake.texts(CAROL) == ["Members only."]


async def test_an_allowed_group_lets_every_member_in() -> None:
    reached = Reached()
    async with bot_on_fake(allowed_chat_ids=[GROUP], run_hook=reached) as bot:
        in_group = await bot.say(GROUP, "from bob", user_id=BOB, chat_type="supergroup")
        in_private = await bot.say(BOB, "bob alone")
    assert "Echo: from bob (turn 1)" in in_group.text
    assert in_private.text == REFUSAL
    assert reached.texts == ["from bob"]


async def test_an_allowed_user_is_answered_in_any_chat() -> None:
    async with bot_on_fake(allowed_user_ids=[ALICE], allowed_chat_ids=[GROUP]) as bot:
        other_group = await bot.say(-900, "alice elsewhere", user_id=ALICE, chat_type="group")
        stranger = await bot.say(-900, "carol elsewhere", user_id=CAROL, chat_type="group")
    assert "Echo: alice elsewhere (turn 1)" in other_group.text
    assert stranger.text == REFUSAL


@pytest.mark.parametrize(
    "options",
    [{"allowed_user_ids": "101"}, {"allowed_chat_ids": [1, "2"]}, {"allowed_user_ids": [True]}],
)
def test_allowlists_must_hold_integer_ids(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be a collection of integer Telegram ids"):
        TelegramChannel(bot_token=TOKEN, **options)

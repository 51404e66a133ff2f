"""Long replies, slow chats and rate limits: nothing lost, and the host never stops answering."""

from __future__ import annotations

from typing import Any

import pytest
from agent_framework import Agent, AgentResponse, AgentResponseUpdate, Content, Message
from agent_framework_hosting import ChannelRequest, HostedRunResult
from agent_framework_hosting.testing import OfflineChatClient
from agent_framework_hosting_telegram.testing import RateLimits, wait_until
from telegram_harness import Bot, bot_on_fake, fake_bot_api, running_bot, telegram_channel

CAPTION = "The whole reply, as a file."


def replying(text: str, *, in_chat: int | None = None) -> Any:
    """A response hook that makes ``text`` the final reply (in ``in_chat`` only, when given)."""

    def replace(result: HostedRunResult, *, request: ChannelRequest, **_: Any) -> HostedRunResult:
        if in_chat is not None and request.metadata["chat_id"] != in_chat:
            return result
        return result.replace(result=AgentResponse(messages=[Message("assistant", [text])]))

    return replace


async def answered_meanwhile(bot: Bot, chat_id: int) -> None:
    """Another chat's message is answered while an earlier update is still held."""
    assert await bot.deliver(bot.fake.message_update(chat_id, "anyone else?")) == 200
    # Streamed, the answer shows previews first; the final text replaces them.
    answer = ["Echo: anyone else? (turn 1)"]
    await wait_until(lambda: bot.fake.texts(chat_id) == answer, "the other chat's answer")


async def test_a_reply_past_max_reply_messages_is_its_first_message_then_a_file() -> None:
    paragraph = "A sentence that goes on. " * 150  # 3,750 characters
    text = "\n\n".join([paragraph.strip()] * 3)
    async with bot_on_fake(stream=False, max_reply_messages=2, response_hook=replying(text)) as bot:
        turn = await bot.say(4, "write a lot")
    first, document = turn.messages
    assert first.text == paragraph.strip()
    assert document.document == text.encode()
    assert (document.file_name, document.caption) == ("reply.txt", CAPTION)


async def test_a_reply_within_max_reply_messages_is_only_messages() -> None:
    paragraph = "A sentence that goes on. " * 150
    text = "\n\n".join([paragraph.strip()] * 3)
    async with bot_on_fake(stream=False, max_reply_messages=3, response_hook=replying(text)) as bot:
        turn = await bot.say(4, "write a lot")
    assert [m.text for m in turn.messages] == [paragraph.strip()] * 3
    assert bot.fake.calls_of("sendDocument") == []


@pytest.mark.parametrize("stream", [False, True])
async def test_a_20_mb_reply_neither_freezes_the_host_nor_is_lost(stream: bool) -> None:
    huge = ("Twenty megabytes of reply, sentence after sentence. " * 400 + "\n\n") * 1000
    assert len(huge) > 20_000_000

    def inflate(update: AgentResponseUpdate) -> AgentResponseUpdate:
        # Each streamed update carries 100 KB: the live message must not re-read it all.
        return AgentResponseUpdate(contents=[Content.from_text("x" * 100_000)], role="assistant")

    agent = Agent(client=OfflineChatClient(chunks=200), name="verbose")
    async with (
        fake_bot_api() as (fake, server),
        running_bot(
            fake,
            telegram_channel(
                server.base_url,
                stream=stream,
                stream_edit_min_interval=0,
                response_hook=replying(huge, in_chat=4),
                stream_update_hook=inflate,
            ),
            agent=agent,
        ) as bot,
    ):
        upload = fake.hold("sendDocument")
        update = fake.message_update(4, " ".join(f"w{i}" for i in range(200)))
        assert await bot.deliver(update) == 200
        await wait_until(lambda: upload.waiting == 1, "the reply's upload", within=120)
        # While the reply is on its way, the host answers, and so does the bot to others.
        assert (await bot.client.get("/readiness")).text == "ok"
        await answered_meanwhile(bot, 5)
        upload.release()
        await bot.idle()
    first, document = fake.messages(4)
    assert huge.startswith(first.text or "")
    assert document.document == huge.encode()


async def test_a_chat_whose_reply_hangs_does_not_hold_up_other_chats() -> None:
    async with bot_on_fake(stream=False) as bot:
        stuck = bot.fake.hold("sendMessage", chat_id=6)
        update = bot.fake.message_update(6, "slow chat")
        assert await bot.deliver(update) == 200
        await wait_until(lambda: stuck.waiting == 1, "the stuck reply")
        await answered_meanwhile(bot, 7)
        assert (await bot.client.get("/readiness")).text == "ok"
        stuck.release()
        await bot.idle()
        assert bot.fake.texts(6) == ["Echo: slow chat (turn 1)"]


@pytest.mark.parametrize(
    ("chat_id", "limits"),
    [
        (4, RateLimits()),  # one message per second in a chat
        (-4, RateLimits(per_chat=100, per_group=2, group_window=3.0)),  # a group's window
    ],
    ids=["chat", "group"],
)
async def test_telegrams_rate_limits_are_waited_out(chat_id: int, limits: RateLimits) -> None:
    paragraph = "A sentence that goes on. " * 150
    text = "\n\n".join([paragraph.strip()] * 3)
    async with (
        fake_bot_api(rate_limits=limits) as (fake, server),
        running_bot(
            fake,
            telegram_channel(server.base_url, stream=False, response_hook=replying(text)),
        ) as bot,
    ):
        turn = await bot.say(
            chat_id, "write a lot", chat_type="supergroup" if chat_id < 0 else "private"
        )
    # Telegram refused sends with 429 and the channel waited before each retry: every piece
    # arrived, in order (a retry that came too soon would have been refused again, and four
    # refusals lose the piece).
    assert [m.text for m in turn.messages] == [paragraph.strip()] * 3
    refusals = [e for e in fake.errors if e.method == "sendMessage"]
    assert refusals
    assert all(e.error_code == 429 and e.retry_after for e in refusals)

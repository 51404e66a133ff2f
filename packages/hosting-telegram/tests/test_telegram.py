"""The Telegram channel end to end: a real host server talking to the fake Bot API."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest
from agent_framework import Agent, AgentResponse, Content, Message
from agent_framework_hosting import (
    AgentFrameworkHost,
    ChannelCommand,
    ChannelCommandContext,
    ChannelContext,
    ChannelContribution,
    ChannelRequest,
    HostedRunResult,
)
from agent_framework_hosting.testing import LoopbackServer, OfflineChatClient
from telegram_harness import (
    APOLOGY,
    SECRET,
    TOKEN,
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


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_startup_registers_commands_and_polling_clears_the_webhook(transport: str) -> None:
    async def ping(ctx: ChannelCommandContext) -> None:
        await ctx.reply("pong")

    async with fake_bot_api() as (fake, server):
        channel = telegram_channel(
            server.base_url,
            transport=transport,
            commands=[
                ChannelCommand("ping", "Answer pong", ping),
                ChannelCommand("Bad-Name", "x", ping),
            ],
        )
        async with running_bot(fake, channel) as bot:
            names = [entry["command"] for entry in fake.commands]
            assert names == ["start", "new", "reset", "ping"]
            assert fake.calls_of("getMe")
            assert bool(fake.calls_of("deleteWebhook")) == (transport == "polling")
            turn = await bot.say(7, "/ping")
            assert turn.text == "pong"


async def test_webhook_url_is_registered_with_a_generated_secret_and_removed_on_shutdown() -> None:
    async with fake_bot_api() as (fake, server):
        channel = telegram_channel(
            server.base_url,
            transport="auto",
            webhook_url="https://bot.example/telegram/webhook",
            secret_token=None,
            delete_webhook_on_shutdown=True,
        )
        assert channel.transport == "webhook"
        async with running_bot(fake, channel) as bot:
            assert fake.webhook is not None
            assert fake.webhook["url"] == "https://bot.example/telegram/webhook"
            assert fake.webhook["allowed_updates"] == ["message"]
            secret = fake.webhook["secret_token"]
            assert isinstance(secret, str)
            assert len(secret) >= 32
            update = fake.message_update(5, "hello")
            assert await bot.deliver(update, secret=secret) == 200
            await bot.idle()
            assert fake.texts(5) == ["Echo: hello (turn 1)"]
        assert fake.webhook is None


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x"])
async def test_webhook_rejects_a_wrong_or_missing_secret(secret: str | None) -> None:
    async with bot_on_fake() as bot:
        status = await bot.deliver(bot.fake.message_update(5, "let me in"), secret=secret)
        assert status == 401
        assert bot.channel.pending_updates == 0
        assert bot.fake.messages(5) == []


def test_a_webhook_without_a_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="secret_token"):
        telegram_channel("http://127.0.0.1:1", transport="webhook", secret_token=None)


async def test_a_redelivered_webhook_update_is_answered_once() -> None:
    async with bot_on_fake() as bot:
        update = bot.fake.message_update(5, "once")
        assert await bot.deliver(update) == 200
        await bot.idle()
        assert await bot.deliver(update) == 200  # Telegram saw no 2xx in time and sent it again
        await bot.idle()
    assert bot.fake.texts(5) == ["Echo: once (turn 1)"]


async def test_a_polled_update_fetched_again_after_a_restart_is_answered_once(
    tmp_path: Path,
) -> None:
    # Telegram forgets an update only once a later getUpdates confirms it (its offset).
    # A bot stopped between answering an update and confirming it gets it again.
    gate = Gate()
    async with fake_bot_api() as (fake, server):
        update = fake.message_update(5, "once")
        first = telegram_channel(
            server.base_url, transport="polling", max_concurrent_updates=1, run_hook=gate
        )
        async with running_bot(fake, first, state_dir=str(tmp_path)):
            fake.enqueue(update)
            # Held, with no room for more: the loop sends no getUpdates, confirms nothing.
            await eventually(lambda: gate.held == 1, "the run to be held")
            polls = len(fake.calls_of("getUpdates"))
            fake.fail_next(
                "getUpdates", error_code=429, description="Too Many Requests", retry_after=3600
            )
            gate.open()
            await eventually(lambda: len(fake.calls_of("getUpdates")) > polls, "the next poll")
            await eventually(lambda: first.pending_updates == 0, "the answer")
        assert fake.confirmed_offset <= update["update_id"]  # Telegram still holds it
        second = telegram_channel(server.base_url, transport="polling")
        async with running_bot(fake, second, state_dir=str(tmp_path)) as bot:
            await eventually(
                lambda: fake.confirmed_offset > update["update_id"], "the update fetched again"
            )
            await bot.idle()
    assert fake.texts(5) == ["Echo: once (turn 1)"]


async def test_private_chats_and_group_members_have_their_own_sessions() -> None:
    seen: list[ChannelRequest] = []

    def record(request: ChannelRequest, **_: Any) -> ChannelRequest:
        seen.append(request)
        return request

    async with fake_bot_api() as (fake, server):
        channel = telegram_channel(server.base_url, run_hook=record)
        async with running_bot(fake, channel) as bot:
            await bot.say(1, "alice private", user_id=101)
            group = -500
            await bot.say(group, "alice in group", user_id=101, chat_type="supergroup")
            bob = await bot.say(group, "bob in group", user_id=202, chat_type="supergroup")
            alice = await bot.say(group, "alice again", user_id=101, chat_type="supergroup")
    assert "(turn 1)" in bob.text
    assert "(turn 2)" in alice.text
    assert [r.isolation_key for r in seen] == [
        "telegram:1",
        "telegram:-500:101",
        "telegram:-500:202",
        "telegram:-500:101",
    ]
    identity = seen[1].identity
    assert identity is not None
    assert (identity.channel, identity.native_id) == ("telegram", "101")
    assert identity.attributes is not None
    assert identity.attributes["username"] == "tester"
    assert identity.attributes["chat_type"] == "supergroup"
    # Replies in a group quote the message they answer.
    assert alice.messages[0].reply_to is not None


async def test_a_group_can_share_one_session() -> None:
    async with fake_bot_api() as (fake, server):
        channel = telegram_channel(server.base_url, group_sessions="per_chat")
        async with running_bot(fake, channel) as bot:
            await bot.say(-9, "first", user_id=1, chat_type="group")
            turn = await bot.say(-9, "second", user_id=2, chat_type="group")
    assert "Echo: second (turn 2)" in turn.text


async def test_commands_start_new_reset_and_unknown() -> None:
    async with bot_on_fake() as bot:
        start = await bot.say(3, "/start")
        assert "/new" in start.text
        assert "/reset" in start.text
        await bot.say(3, "one")
        assert "(turn 2)" in (await bot.say(3, "two")).text
        assert (await bot.say(3, "/new")).text == "Started a new conversation."
        assert "Echo: three (turn 1)" in (await bot.say(3, "three")).text
        await bot.say(3, "/reset@fake_bot")
        assert "(turn 1)" in (await bot.say(3, "four")).text
        unknown = await bot.say(3, "/frobnicate now")
        assert unknown.text.startswith("Unknown command /frobnicate.")
        other_bot = await bot.say(3, "/new@another_bot")
        assert other_bot.messages == []


async def test_streaming_edits_one_message_at_a_bounded_rate() -> None:
    agent = Agent(client=OfflineChatClient(chunks=20), name="streamer")
    words = " ".join(f"w{i}" for i in range(40))
    async with fake_bot_api() as (fake, server):
        channel = telegram_channel(server.base_url, stream=True, stream_edit_min_interval=3600)
        async with running_bot(fake, channel, agent=agent) as bot:
            turn = await bot.say(8, words)
    assert len(turn.messages) == 1
    message = turn.messages[0]
    assert message.text == f"Echo: {words} (turn 1)"
    # Twenty updates arrived within one interval: one preview, then the final edit.
    assert len(turn.previews) == 1
    assert message.edits == 1
    sends = fake.calls_of("sendChatAction")
    assert sends
    assert sends[0].params["action"] == "typing"


@pytest.mark.parametrize(
    ("failing", "error_code", "retry_after", "interval", "expected_calls"),
    [
        # A rate-limited preview edit: no preview before retry_after, the final edit lands.
        ("editMessageText", 429, 3600, 0, ["sendMessage", "editMessageText", "editMessageText"]),
        # A rate-limited first preview: no live message; the final text is sent as a message.
        ("sendMessage", 429, 3600, 0, ["sendMessage", "sendMessage"]),
        # A failed first preview is not retried, and the next one waits for the interval.
        ("sendMessage", 502, None, 3600, ["sendMessage", "sendMessage"]),
    ],
)
async def test_a_failing_preview_is_skipped_and_the_final_text_still_arrives(
    failing: str,
    error_code: int,
    retry_after: int | None,
    interval: float,
    expected_calls: list[str],
) -> None:
    agent = Agent(client=OfflineChatClient(chunks=20), name="streamer")
    words = " ".join(f"w{i}" for i in range(40))
    async with bot_on_fake(agent=agent, stream=True, stream_edit_min_interval=interval) as bot:
        fake = bot.fake
        fake.fail_next(failing, error_code=error_code, description="No", retry_after=retry_after)
        turn = await bot.say(8, words)
    assert [m.text for m in turn.messages] == [f"Echo: {words} (turn 1)"]
    # Twenty text updates, yet a single preview call before the final text.
    calls = [c.method for c in fake.calls if c.method in ("sendMessage", "editMessageText")]
    assert calls == expected_calls


async def test_long_replies_are_split_on_boundaries() -> None:
    paragraph = " ".join(["Lorem ipsum dolor sit amet."] * 60)
    text = "\n\n".join([paragraph] * 6)

    def long_reply(result: HostedRunResult, **_: Any) -> HostedRunResult:
        return result.replace(result=AgentResponse(messages=[Message("assistant", [text])]))

    async with fake_bot_api() as (fake, server):
        channel = telegram_channel(server.base_url, stream=False, response_hook=long_reply)
        async with running_bot(fake, channel) as bot:
            turn = await bot.say(4, "write a lot")
    pieces = [m.text or "" for m in turn.messages]
    assert len(pieces) > 1
    assert all(len(piece) <= 4096 for piece in pieces)
    assert all(piece.endswith("amet.") for piece in pieces)
    assert "\n\n".join(pieces) == text


@pytest.mark.parametrize(
    ("parse_mode", "expected"),
    [
        ("MarkdownV2", r"*Total:* 1\.5 \(approx\) `a_b` \- done\!"),
        ("HTML", "<b>Total:</b> 1.5 (approx) <code>a_b</code> - done! &lt;ok&gt;"),
    ],
)
async def test_markdown_is_rendered_for_the_parse_mode(parse_mode: str, expected: str) -> None:
    reply = "**Total:** 1.5 (approx) `a_b` - done!" + (" <ok>" if parse_mode == "HTML" else "")

    def markdown(result: HostedRunResult, **_: Any) -> HostedRunResult:
        return result.replace(result=AgentResponse(messages=[Message("assistant", [reply])]))

    async with fake_bot_api() as (fake, server):
        channel = telegram_channel(
            server.base_url, stream=False, parse_mode=parse_mode, response_hook=markdown
        )
        async with running_bot(fake, channel) as bot:
            turn = await bot.say(4, "format it")
    assert [(m.markup, m.parse_mode) for m in turn.messages] == [(expected, parse_mode)]
    # Telegram shows the text without the markup, with its formatting as entities.
    assert turn.messages[0].text == "Total: 1.5 (approx) a_b - done!" + (
        " <ok>" if parse_mode == "HTML" else ""
    )
    assert [e["type"] for e in turn.messages[0].entities] == ["bold", "code"]


@pytest.mark.parametrize("stream", [False, True])
async def test_rejected_formatting_falls_back_to_plain_text(stream: bool) -> None:
    async with fake_bot_api() as (fake, server):
        channel = telegram_channel(server.base_url, stream=stream, parse_mode="MarkdownV2")
        async with running_bot(fake, channel) as bot:
            method = "editMessageText" if stream else "sendMessage"
            fake.fail_next(method, error_code=400, description="Bad Request: can't parse entities")
            turn = await bot.say(4, "plain please")
    assert [(m.text, m.parse_mode) for m in turn.messages] == [
        ("Echo: plain please (turn 1)", None)
    ]


async def test_images_from_the_agent_are_sent_as_photos() -> None:
    def with_images(result: HostedRunResult, **_: Any) -> HostedRunResult:
        contents = [
            Content.from_text("Here you go"),
            Content.from_data(data=PNG, media_type="image/png"),
            Content.from_uri("https://images.example/cat.png", media_type="image/png"),
        ]
        return result.replace(result=AgentResponse(messages=[Message("assistant", contents)]))

    async with fake_bot_api() as (fake, server):
        channel = telegram_channel(server.base_url, response_hook=with_images)
        async with running_bot(fake, channel) as bot:
            turn = await bot.say(6, "draw")
    assert turn.text == "Here you go"
    photos = [m.photo for m in fake.messages(6) if m.photo is not None]
    assert photos == [PNG, "https://images.example/cat.png"]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_received_photos_reach_the_agent_as_data_without_the_token(transport: str) -> None:
    client = OfflineChatClient()
    agent = Agent(client=client, name="viewer")
    async with (
        fake_bot_api() as (fake, server),
        running_bot(
            fake, telegram_channel(server.base_url, transport=transport), agent=agent
        ) as bot,
    ):
        turn = await bot.say(9, None, photo=PNG, caption="what is this?")
        follow_up = await bot.say(9, "and now?")
        history = json.dumps([m.to_dict() for m in client.last_messages])
    assert "Echo: what is this? (turn 1)" in turn.text
    assert "(turn 2)" in follow_up.text
    images = [c for m in client.last_messages for c in m.contents if c.type == "data"]
    assert len(images) == 1
    assert images[0].media_type == "image/jpeg"
    assert images[0].uri == "data:image/jpeg;base64," + base64.b64encode(PNG).decode()
    assert TOKEN not in history
    assert TOKEN.split(":")[1] not in history


async def test_a_message_without_text_or_media_gets_a_hint() -> None:
    async with bot_on_fake() as bot:
        turn = await bot.say(2, None)  # a sticker, a location, a poll: nothing the agent reads
    assert turn.text == (
        "I can read text, photos, documents, voice and audio messages, and videos; "
        "please send one of those."
    )


@pytest.mark.parametrize("stream", [False, True])
async def test_an_agent_failure_answers_with_an_apology(
    stream: bool, caplog: pytest.LogCaptureFixture
) -> None:
    agent = Agent(client=OfflineChatClient(error=RuntimeError("db password is hunter2")))
    async with fake_bot_api() as (fake, server):
        with caplog.at_level(logging.ERROR, logger="agent_framework.hosting.telegram"):
            channel = telegram_channel(server.base_url, stream=stream)
            async with running_bot(fake, channel, agent=agent) as bot:
                turn = await bot.say(2, "hi")
    assert turn.text == APOLOGY
    assert "hunter2" not in turn.text
    assert "hunter2" in caplog.text


async def test_rate_limits_are_waited_out_and_server_errors_retried() -> None:
    async with bot_on_fake(stream=False) as bot:
        fake = bot.fake
        fake.fail_next(
            "sendMessage", error_code=429, description="Too Many Requests", retry_after=1
        )
        fake.fail_next("sendMessage", error_code=502, description="Bad Gateway")
        turn = await bot.say(2, "eventually")
    assert turn.text == "Echo: eventually (turn 1)"
    assert len(fake.calls_of("sendMessage")) == 3


async def test_a_reply_telegram_keeps_refusing_is_logged_not_silent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with fake_bot_api() as (fake, server):
        with caplog.at_level(logging.WARNING, logger="agent_framework.hosting.telegram"):
            async with running_bot(fake, telegram_channel(server.base_url, stream=False)) as bot:
                fake.fail_next(
                    "sendMessage", error_code=403, description="Forbidden: bot was blocked"
                )
                turn = await bot.say(2, "anyone there?")
                recovered = await bot.say(2, "and now?")
    assert turn.messages == []
    assert "bot was blocked" in caplog.text
    assert "(turn 2)" in recovered.text
    assert TOKEN not in caplog.text


async def test_polling_backs_off_on_errors(caplog: pytest.LogCaptureFixture) -> None:
    async with fake_bot_api() as (fake, server):
        fake.fail_next("getUpdates", error_code=500, description="Internal Server Error", times=2)
        with caplog.at_level(logging.WARNING, logger="agent_framework.hosting.telegram"):
            channel = telegram_channel(server.base_url, transport="polling")
            async with running_bot(fake, channel) as bot:
                turn = await bot.say(2, "after the errors")
    assert "Echo: after the errors (turn 1)" in turn.text
    assert caplog.text.count("polling again") == 2
    # The backoff starts at half a second and doubles, as documented.
    assert "polling again in 0.5s" in caplog.text
    assert "polling again in 1.0s" in caplog.text
    assert TOKEN not in caplog.text


class ShutdownWitness:
    """A channel listed before the bot, so its shutdown runs after the bot's (the host stops
    channels in reverse order); it records the tasks still alive on the host's event loop."""

    name = "witness"
    path = "/witness"

    def __init__(self) -> None:
        self.alive: list[str] | None = None

    def contribute(self, context: ChannelContext) -> ChannelContribution:
        return ChannelContribution(on_shutdown=[self.record])

    async def record(self) -> None:
        current = asyncio.current_task()
        self.alive = sorted(t.get_name() for t in asyncio.all_tasks() if t is not current)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_after_shutdown_nothing_of_the_bot_runs(transport: str) -> None:
    witness = ShutdownWitness()
    gate = Gate()  # never opened: an update is still being answered when the host stops
    async with fake_bot_api() as (fake, server):
        channel = telegram_channel(
            server.base_url, transport=transport, run_hook=gate, shutdown_timeout=0
        )
        host = AgentFrameworkHost(
            Agent(client=OfflineChatClient(), name="witnessed"), channels=[witness, channel]
        )
        with LoopbackServer(host.app) as running:
            update = fake.message_update(3, "stay a while")
            if transport == "polling":
                fake.enqueue(update)
            else:
                async with httpx.AsyncClient(base_url=running.base_url) as client:
                    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
                    await client.post(channel.path, json=update, headers=headers)
            await eventually(lambda: gate.held == 1, "the run to be held")
    # Checked on the host's own loop, while it still ran: no poll, reply or typing task left.
    assert witness.alive is not None
    assert [name for name in witness.alive if name.startswith("telegram-")] == []


async def test_an_unreachable_bot_api_never_logs_the_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from agent_framework_hosting_telegram._api import BotApi, TelegramApiError

    # A port bound and never listened on refuses every connection while it stays bound.
    with socket.socket() as unreachable:
        unreachable.bind(("127.0.0.1", 0))
        port = unreachable.getsockname()[1]
        api = BotApi(TOKEN, api_base=f"http://127.0.0.1:{port}", max_attempts=2, backoff=0.01)
        with caplog.at_level(logging.DEBUG), pytest.raises(TelegramApiError) as raised:
            await api.call("getMe")
        await api.aclose()
    assert "transport error (ConnectError)" in str(raised.value)
    assert TOKEN not in str(raised.value)
    assert TOKEN not in caplog.text
    assert raised.value.__cause__ is None


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_the_token_is_in_no_log_record_at_debug(
    transport: str, caplog: pytest.LogCaptureFixture
) -> None:
    def explode_on_request(request: ChannelRequest, **_: Any) -> ChannelRequest:
        messages = request.input if isinstance(request.input, list) else []
        if any(isinstance(m, Message) and m.text == "explode" for m in messages):
            raise RuntimeError("the run hook failed")
        return request

    secret_part = TOKEN.split(":", 1)[1]
    async with fake_bot_api() as (fake, server):
        with caplog.at_level(logging.DEBUG):
            channel = telegram_channel(
                server.base_url, transport=transport, run_hook=explode_on_request
            )
            async with running_bot(fake, channel) as bot:
                # Requests and downloads, a retried getFile, a refused reply, a traceback.
                fake.fail_next("getFile", error_code=502, description="Bad Gateway")
                await bot.say(9, None, photo=PNG, caption="look")
                fake.fail_next("sendMessage", error_code=403, description="Forbidden: blocked")
                await bot.say(9, "refused")
                await bot.say(9, "explode")
                bot.channel.stream = False
                await bot.say(9, "plain")
    formatter = logging.Formatter()
    texts = [formatter.format(record) for record in caplog.records]
    httpx_lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert any("/bot424242:***/sendMessage" in line for line in httpx_lines)
    assert any("/file/bot424242:***/files/" in line for line in httpx_lines)
    assert any(record.exc_info for record in caplog.records)
    assert [text for text in texts if TOKEN in text or secret_part in text] == []


async def test_an_exception_naming_the_token_is_redacted_in_the_channel_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with bot_on_fake() as bot:
        assert bot.channel.pending_updates == 0
        url = f"http://127.0.0.1:1/bot{TOKEN}/getMe"
        with caplog.at_level(logging.DEBUG):
            try:
                raise httpx.ConnectError(f"All connection attempts failed: {url}")
            except httpx.ConnectError:
                logging.getLogger("agent_framework.hosting.telegram").exception("%s", url)
    (record,) = [r for r in caplog.records if r.name == "agent_framework.hosting.telegram"]
    text = logging.Formatter().format(record)
    assert "/bot424242:***/getMe" in text
    assert "ConnectError: All connection attempts failed" in text
    assert TOKEN not in text


async def test_sessions_and_seen_updates_survive_a_restart(tmp_path: Path) -> None:
    async with fake_bot_api() as (fake, server):
        update = fake.message_update(12, "remember me")
        async with running_bot(
            fake, telegram_channel(server.base_url), state_dir=str(tmp_path)
        ) as bot:
            await bot.deliver(update)
            await bot.idle()
        async with running_bot(
            fake, telegram_channel(server.base_url), state_dir=str(tmp_path)
        ) as bot:
            await bot.deliver(update)
            await bot.idle()
            turn = await bot.say(12, "still there?")
    assert fake.texts(12) == ["Echo: remember me (turn 1)", "Echo: still there? (turn 2)"]
    assert "(turn 2)" in turn.text


async def test_a_streamed_reply_longer_than_a_message_ends_split() -> None:
    agent = Agent(client=OfflineChatClient(chunks=20), name="long-streamer")
    words = " ".join(f"word{i}" for i in range(1200))
    async with bot_on_fake(agent=agent, stream=True, stream_edit_min_interval=0) as bot:
        turn = await bot.say(8, words)
    pieces = [m.text or "" for m in turn.messages]
    assert len(pieces) > 1
    assert all(len(piece) <= 4096 for piece in pieces)
    assert " ".join(pieces) == f"Echo: {words} (turn 1)"
    # The live message showed the reply as it grew, cut to one message with an ellipsis.
    assert len(turn.previews) > 1
    assert all(len(preview) <= 4096 for preview in turn.previews)
    assert any(preview.endswith("…") for preview in turn.previews)
    assert turn.messages[0].edits >= 1

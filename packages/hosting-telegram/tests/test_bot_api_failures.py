"""What the Bot API (or a proxy in front of it) answers when it fails, and how the bot goes on."""

from __future__ import annotations

import logging

import pytest
from telegram_harness import TOKEN, bot_on_fake, eventually

PROXY_PAGE = "<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>"
CHANNEL_LOGGER = "agent_framework.hosting.telegram"


async def test_a_proxy_page_instead_of_an_answer_is_retried(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger=CHANNEL_LOGGER):
        async with bot_on_fake(stream=False) as bot:
            bot.fake.fail_next("sendMessage", error_code=502, body=PROXY_PAGE)
            turn = await bot.say(2, "through the proxy")
    assert turn.text == "Echo: through the proxy (turn 1)"
    assert len(bot.fake.calls_of("sendMessage")) == 2
    assert "Telegram sendMessage failed: HTTP 502 without a JSON body; retrying" in caplog.text
    assert "nginx" not in caplog.text


async def test_polling_backs_off_from_a_proxy_page_and_recovers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger=CHANNEL_LOGGER):
        async with bot_on_fake(transport="polling") as bot:
            bot.fake.fail_next("getUpdates", error_code=503, body=PROXY_PAGE)
            turn = await bot.say(2, "after the outage")
    assert "Echo: after the outage (turn 1)" in turn.text
    assert "Telegram getUpdates failed: HTTP 503 without a JSON body; polling again" in caplog.text


async def test_an_answer_that_is_not_the_bot_apis_is_an_error_not_a_crash(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger=CHANNEL_LOGGER):
        async with bot_on_fake(stream=False) as bot:
            # A 200 whose body nests deeper than any Bot API answer.
            bot.fake.fail_next("sendMessage", error_code=200, body="[" * 1000 + "]" * 1000)
            lost = await bot.say(2, "first")
            turn = await bot.say(2, "second")
    assert lost.messages == []
    assert "Telegram sendMessage failed: HTTP 200 without a JSON body" in caplog.text
    assert turn.text == "Echo: second (turn 2)"


async def test_a_retry_after_past_the_channels_maximum_is_not_waited_for(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger=CHANNEL_LOGGER):
        async with bot_on_fake(stream=False) as bot:
            bot.fake.fail_next(
                "sendMessage",
                error_code=429,
                description="Too Many Requests: retry after 3600",
                retry_after=3600,
            )
            lost = await bot.say(2, "first")
            # The chat's next update waits for the first to finish: had the channel waited
            # out the hour, this one would not be answered.
            turn = await bot.say(2, "second")
    assert lost.messages == []
    assert len(bot.fake.calls_of("sendMessage")) == 2
    assert "Telegram update" in caplog.text
    assert "Too Many Requests: retry after 3600" in caplog.text
    assert turn.text == "Echo: second (turn 2)"


async def test_polling_waits_out_a_conflict_with_a_webhook_set_elsewhere(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger=CHANNEL_LOGGER):
        async with bot_on_fake(transport="polling") as bot:
            fake = bot.fake
            # Another deployment registers a webhook: Telegram refuses getUpdates with 409.
            fake.webhook = {"url": "https://elsewhere.example/hook"}
            await eventually(
                lambda: "can't use getUpdates method while webhook is active" in caplog.text,
                "a refused poll",
            )
            fake.webhook = None
            turn = await bot.say(2, "back again")
    assert "Echo: back again (turn 1)" in turn.text
    assert TOKEN not in caplog.text

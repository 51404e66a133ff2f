"""Media users send reach the agent as data, within a size limit; failures are told, not run."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from agent_framework import Agent, Content
from agent_framework_hosting import content_name
from agent_framework_hosting.testing import OfflineChatClient
from telegram_harness import TOKEN, Bot, fake_bot_api, running_bot, telegram_channel

TOO_LARGE = "That file is too large for me: I can take files up to 1 KB."
NOT_FETCHED = "Sorry, I could not fetch that file. Please send it again."
DATA = b"\x00\x01binary\xff" * 10


@asynccontextmanager
async def viewer(**options: Any) -> AsyncGenerator[tuple[Bot, OfflineChatClient]]:
    """A bot whose agent runs on a client that keeps what it was given."""
    client = OfflineChatClient()
    async with (
        fake_bot_api() as (fake, server),
        running_bot(
            fake,
            telegram_channel(server.base_url, **options),
            agent=Agent(client=client, name="viewer"),
        ) as bot,
    ):
        yield bot, client


def received(client: OfflineChatClient) -> list[Content]:
    return [c for m in client.last_messages for c in m.contents if c.type == "data"]


@pytest.mark.parametrize(
    ("kind", "mime_type", "file_name", "expected_type"),
    [
        ("document", "application/pdf", "report.pdf", "application/pdf"),
        ("voice", "audio/ogg", None, "audio/ogg"),
        ("audio", "audio/mpeg", "song.mp3", "audio/mpeg"),
        ("video", "video/mp4", "clip.mp4", "video/mp4"),
        ("video_note", None, None, "video/mp4"),
        ("document", "not a type", "x.bin", "application/octet-stream"),
    ],
)
async def test_media_reach_the_agent_as_data_without_the_token(
    kind: str, mime_type: str | None, file_name: str | None, expected_type: str
) -> None:
    async with viewer() as (bot, client):
        turn = await bot.say(
            9,
            None,
            caption="what is this?",
            mime_type=mime_type,
            file_name=file_name,
            **{kind: DATA},
        )
        history = json.dumps([m.to_dict() for m in client.last_messages])
    assert "Echo: what is this? (turn 1)" in turn.text
    (content,) = received(client)
    assert content.media_type == expected_type
    assert content.uri == f"data:{expected_type};base64," + base64.b64encode(DATA).decode()
    assert content_name(content) == file_name
    assert TOKEN.split(":")[1] not in history


async def test_a_file_declared_over_the_limit_is_refused_without_fetching_it() -> None:
    async with viewer(max_file_bytes=1024) as (bot, client):
        turn = await bot.say(9, None, document=b"x" * 2048, caption="read this")
    assert turn.text == TOO_LARGE
    assert bot.fake.calls_of("getFile") == []
    assert client.last_messages == []


async def test_a_file_larger_than_it_declared_is_refused_once_the_limit_is_passed() -> None:
    async with viewer(max_file_bytes=1024) as (bot, client):
        turn = await bot.say(9, None, document=b"x" * 4096, file_size=10)
    assert turn.text == TOO_LARGE
    assert client.last_messages == []


async def test_a_file_telegram_will_not_hand_out_is_refused_as_too_large() -> None:
    async with viewer(max_file_bytes=64 * 1024 * 1024) as (bot, client):
        big = b"x" * (20 * 1024 * 1024 + 1)  # over getFile's 20 MB
        turn = await bot.say(9, None, video=big, file_size=100)
    assert turn.text == "That file is too large for me: I can take files up to 64 MB."
    assert client.last_messages == []


async def test_a_photo_with_no_size_within_the_limit_is_refused() -> None:
    async with viewer(max_file_bytes=16) as (bot, client):
        turn = await bot.say(9, None, photo=b"p" * 4096)
    assert turn.text == "That file is too large for me: I can take files up to 16 bytes."
    assert client.last_messages == []


@pytest.mark.parametrize(
    ("method", "error_code", "description"),
    [
        ("getFile", 400, "Bad Request: invalid file_id"),
        ("file", 404, "Not Found"),
        ("file", 500, "Internal Server Error"),
    ],
)
async def test_a_file_that_cannot_be_fetched_is_told_and_nothing_runs(
    method: str, error_code: int, description: str
) -> None:
    async with viewer() as (bot, _client):
        bot.fake.fail_next(method, error_code=error_code, description=description)
        turn = await bot.say(9, None, document=DATA, caption="look")
        after = await bot.say(9, "and now?")
    assert turn.text == NOT_FETCHED
    # The next message is the conversation's first turn: the failed one never ran.
    assert "Echo: and now? (turn 1)" in after.text


async def test_a_photo_caption_starting_with_a_slash_is_not_a_command() -> None:
    async with viewer() as (bot, _client):
        turn = await bot.say(9, None, photo=DATA, caption="/new look at this")
    assert "Echo: /new look at this (turn 1)" in turn.text

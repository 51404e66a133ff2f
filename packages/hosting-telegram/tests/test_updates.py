"""Updates at the boundary: limits, exact types, and nothing invalid reaching the agent."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import re
from collections.abc import Generator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from agent_framework import Agent, Message
from agent_framework_hosting import AgentFrameworkHost, ChannelRequest
from agent_framework_hosting.testing import LoopbackServer, OfflineChatClient
from agent_framework_hosting_telegram._parse import UpdateError, parse_update
from agent_framework_hosting_telegram.testing import FakeBotApi, wait_until
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram_harness import SECRET, TOKEN, Bot, bot_on_fake, eventually, telegram_channel

HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET}


class Reached:
    """A run hook that records the text of every message that reached the agent."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def __call__(self, request: ChannelRequest, **_: Any) -> ChannelRequest:
        messages = request.input if isinstance(request.input, list) else []
        self.texts.extend(m.text for m in messages if isinstance(m, Message))
        return request


def valid_update(update_id: int = 7, text: str = "hello") -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 3,
            "date": 0,
            "chat": {"id": 42, "type": "private"},
            "from": {"id": 42, "is_bot": False, "first_name": "Ann", "username": "ann"},
            "text": text,
        },
    }


def test_an_update_is_read_into_exact_types() -> None:
    update = parse_update(valid_update())
    assert update.update_id == 7
    message = update.message
    assert message is not None
    assert (message.chat_id, message.chat_type, message.text) == (42, "private", "hello")
    assert message.sender is not None
    assert message.sender.attributes == {"username": "ann", "first_name": "Ann", "is_bot": False}


def test_other_kinds_of_update_carry_no_message() -> None:
    update = parse_update({"update_id": 9, "edited_message": {"anything": []}})
    assert (update.update_id, update.message) == (9, None)


@pytest.mark.parametrize(
    ("path", "value", "complaint"),
    [
        ((), [], "the update must be an object"),
        (("update_id",), True, "update_id must be a 64-bit integer"),
        (("update_id",), 2**70, "update_id must be a 64-bit integer"),
        (("update_id",), "7", "update_id must be a 64-bit integer"),
        (("message",), None, "message must be an object"),
        (("message", "chat"), [], "message.chat must be an object"),
        (("message", "chat", "id"), 4.2, "message.chat.id must be a 64-bit integer"),
        (("message", "text"), ["nested"], "message.text must be a string"),
        (("message", "from", "id"), {"id": 1}, "message.from.id must be a 64-bit integer"),
        (("message", "from", "is_bot"), "no", "message.from.is_bot must be a boolean"),
        (("message", "photo"), {"file_id": "x"}, "message.photo must be an array"),
        (("message", "document"), {"file_id": 5}, "message.document.file_id must be a string"),
        (("message", "voice"), {"file_id": "v", "file_size": -1}, "must not be negative"),
    ],
)
def test_a_field_of_the_wrong_type_is_named(
    path: tuple[str, ...], value: object, complaint: str
) -> None:
    update: Any = valid_update()
    if path:
        target = update
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    else:
        update = value
    with pytest.raises(UpdateError, match=complaint):
        parse_update(update)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
FIELD_PATHS = [
    ("update_id",), ("message",), ("message", "message_id"), ("message", "chat"),
    ("message", "chat", "id"), ("message", "chat", "type"), ("message", "from"),
    ("message", "from", "id"), ("message", "from", "username"), ("message", "from", "is_bot"),
    ("message", "text"), ("message", "caption"), ("message", "photo"), ("message", "document"),
    ("message", "voice"), ("message", "video_note"),
]  # fmt: skip


def mutated(path: tuple[str, ...], value: object) -> dict[str, Any]:
    """A valid update with the field at ``path`` set to ``value`` (containers made as needed)."""
    update: Any = valid_update()
    target = update
    for key in path[:-1]:
        if not isinstance(target.get(key), dict):
            target[key] = {}
        target = target[key]
    target[path[-1]] = copy.deepcopy(value)
    return update


@settings(max_examples=500, deadline=None)
@given(body=json_values)
def test_no_json_value_breaks_the_parser(body: object) -> None:
    try:
        update = parse_update(body)
    except UpdateError:
        return
    assert type(update.update_id) is int


@settings(max_examples=500, deadline=None)
@given(path=st.sampled_from(FIELD_PATHS), value=json_values)
def test_a_mutated_update_is_refused_or_read_with_exact_types(
    path: tuple[str, ...], value: object
) -> None:
    try:
        update = parse_update(mutated(path, value))
    except UpdateError:
        return
    message = update.message
    if message is not None:
        assert type(message.chat_id) is int
        assert message.text is None or isinstance(message.text, str)
        assert all(isinstance(f.file_id, str) for f in message.files)


@contextmanager
def webhook_host(reached: Reached) -> Generator[httpx.Client]:
    """A host with a webhook channel on a loopback port, for synchronous property tests."""
    fake = FakeBotApi(TOKEN)
    with LoopbackServer(fake.app) as bot_api:
        host = AgentFrameworkHost(
            Agent(client=OfflineChatClient(), name="fuzzed"),
            channels=[telegram_channel(bot_api.base_url, stream=False, run_hook=reached)],
        )
        with LoopbackServer(host.app) as server, httpx.Client(base_url=server.base_url) as client:
            yield client


def test_no_webhook_body_gets_a_5xx_and_nothing_invalid_reaches_the_agent() -> None:
    reached = Reached()
    accepted: list[str] = []
    ids = iter(range(1000, 10**9))

    @settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(path=st.sampled_from(FIELD_PATHS), value=json_values)
    def post(path: tuple[str, ...], value: object) -> None:
        update = mutated(path, value)
        if path != ("update_id",):
            update["update_id"] = next(ids)
        # Every text the agent could be given is unique, so each can be traced to its update.
        message = update.get("message")
        texts = []
        if isinstance(message, dict):
            for key in ("text", "caption"):
                if isinstance(message.get(key), str):
                    message[key] = f"{key}-{next(ids)}"
                    texts.append(message[key])
        response = client.post("/telegram/webhook", json=update, headers=HEADERS)
        assert response.status_code in (200, 400), response.text
        body = response.json()
        assert body["ok"] is (response.status_code == 200)
        if response.status_code == 200:
            accepted.extend(texts)
        else:
            assert body["error_code"] == 400
            assert body["description"].startswith("Not a Telegram update: ")

    with webhook_host(reached) as client:
        post()
        assert client.get("/readiness").text == "ok"
    # The host drained every update at shutdown: whatever reached the agent came from an
    # update the webhook accepted.
    assert set(reached.texts) <= set(accepted)


async def post_raw(bot: Bot, head: bytes, body: bytes) -> tuple[int, dict[str, Any]]:
    """POST ``body`` after ``head`` on a socket of its own; the status and the JSON answer.

    A client that writes a whole oversized body before reading would not see the answer
    when the server stops reading early: this one writes, then reads what came back.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", bot.server.port)
    try:
        writer.write(
            f"POST {bot.channel.path} HTTP/1.1\r\nhost: bot\r\n"
            f"x-telegram-bot-api-secret-token: {SECRET}\r\n"
            "content-type: application/json\r\n".encode()
            + head
            + b"\r\n"
            + body
        )
        await writer.drain()
        status_line = await reader.readline()
        headers = await reader.readuntil(b"\r\n\r\n")
        found = re.search(rb"content-length: *(\d+)", headers.lower())
        assert found is not None
        answer = json.loads(await reader.readexactly(int(found.group(1))))
    finally:
        writer.close()
    return int(status_line.split()[1]), answer


TOO_LARGE = {
    "ok": False,
    "error_code": 413,
    "description": "The request body is larger than 1048576 bytes.",
}


async def test_a_body_declared_over_one_mib_is_413_before_it_is_read() -> None:
    reached = Reached()
    async with bot_on_fake(run_hook=reached) as bot:
        status, answer = await post_raw(bot, b"content-length: 60000000\r\n", b"{")
        assert (status, answer) == (413, TOO_LARGE)
        assert (await bot.client.get("/readiness")).text == "ok"
    assert reached.texts == []


async def test_a_body_that_grows_past_one_mib_is_413() -> None:
    reached = Reached()
    update = json.dumps(valid_update(text="x" * (1024 * 1024))).encode()
    chunks = b"".join(
        b"%x\r\n%s\r\n" % (len(update[i : i + 65536]), update[i : i + 65536])
        for i in range(0, len(update), 65536)
    )
    async with bot_on_fake(run_hook=reached) as bot:
        status, answer = await post_raw(
            bot, b"transfer-encoding: chunked\r\n", chunks + b"0\r\n\r\n"
        )
        assert (status, answer) == (413, TOO_LARGE)
        assert (await bot.client.get("/readiness")).text == "ok"
    assert reached.texts == []


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"update_id": 1, "message": {"text": ' + b"[" * 5000 + b"]" * 5000 + b"}}",
        b'{"update_id": 1e400, "message": {}}',
        b'{"update_id": NaN}',
        b'{"update_id": 1, "message": {"text": "\\ud800"}}',
        b"\xff\xfe not json",
        json.dumps(valid_update() | {"update_id": True}).encode(),
        json.dumps(valid_update() | {"message": {"chat": {"id": "42"}}}).encode(),
    ],
    ids=[
        "deep",
        "deep-text",
        "overflow",
        "nan",
        "lone-surrogate",
        "bytes",
        "bool-id",
        "string-chat",
    ],
)
async def test_a_malformed_body_is_400_in_the_bot_api_shape(body: bytes) -> None:
    reached = Reached()
    async with bot_on_fake(run_hook=reached) as bot:
        response = await bot.client.post(
            bot.channel.path, content=body, headers={**HEADERS, "content-type": "application/json"}
        )
        assert response.status_code == 400
        answer = response.json()
        assert (answer["ok"], answer["error_code"]) == (False, 400)
        assert "Traceback" not in answer["description"]
        turn = await bot.say(5, "still answering")
    assert "Echo: still answering (turn 1)" in turn.text
    assert reached.texts == ["still answering"]


async def test_polling_skips_invalid_updates_and_confirms_them(
    caplog: pytest.LogCaptureFixture,
) -> None:
    reached = Reached()
    with caplog.at_level(logging.WARNING, logger="agent_framework.hosting.telegram"):
        async with bot_on_fake(transport="polling", run_hook=reached) as bot:
            fake = bot.fake
            bad_chat = fake.message_update(5, "bad chat")
            bad_chat["message"]["chat"] = "5"
            bad_text = fake.message_update(5, "bad text")
            bad_text["message"]["text"] = ["y"]
            broken = [bad_chat, bad_text]
            for update in broken:
                fake.enqueue(update)
            last = broken[-1]["update_id"]
            await wait_until(lambda: fake.confirmed_offset > last, "the invalid updates confirmed")
            turn = await bot.say(5, "after them")
    assert "Echo: after them (turn 1)" in turn.text
    assert reached.texts == ["after them"]
    skipped = [r.getMessage() for r in caplog.records if "not valid" in r.getMessage()]
    assert len(skipped) == 2
    assert "message.chat must be an object" in skipped[0]
    assert "bad chat" not in caplog.text


async def test_a_batch_without_any_update_id_is_backed_off(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="agent_framework.hosting.telegram"):
        async with bot_on_fake(transport="polling") as bot:
            bot.fake.enqueue({"message": {"text": "no id"}})
            await eventually(lambda: "no update in the batch has an id" in caplog.text, "a backoff")
            assert (await bot.client.get("/readiness")).text == "ok"

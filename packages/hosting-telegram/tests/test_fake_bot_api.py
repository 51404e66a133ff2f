"""The fake Bot API refuses what Telegram refuses, with Telegram's statuses and descriptions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from agent_framework_hosting.testing import LoopbackServer
from agent_framework_hosting_telegram.testing import (
    FakeBotApi,
    RateLimits,
    parse_formatted_text,
    wait_until,
)
from telegram_harness import TOKEN

CAN_NOT_PARSE = "Bad Request: can't parse entities: "


@asynccontextmanager
async def serving(fake: FakeBotApi) -> AsyncGenerator[httpx.AsyncClient]:
    with LoopbackServer(fake.app) as server:
        async with httpx.AsyncClient(base_url=f"{server.base_url}/bot{TOKEN}/") as client:
            yield client


@pytest.fixture
async def api() -> AsyncIterator[tuple[FakeBotApi, httpx.AsyncClient]]:
    fake = FakeBotApi(TOKEN)
    async with serving(fake) as client:
        yield fake, client


async def call(client: httpx.AsyncClient, method: str, **params: Any) -> httpx.Response:
    return await client.post(method, json=params)


@pytest.mark.parametrize(
    ("markup", "shown", "entities"),
    [
        (r"*bold \*star* and _it_", "bold *star and it", ["bold", "italic"]),
        (
            "__under__ ~strike~ ||spoiler||",
            "under strike spoiler",
            ["underline", "strikethrough", "spoiler"],
        ),
        (r"[docs](https://example.com/a_(b\))", "docs", ["text_link"]),
        ("```py\nprint('*')\n```", "print('*')", ["pre"]),
        (r"`a\`b` 1\.5", "a`b 1.5", ["code"]),
        ("*bold _italic bold_ bold*", "bold italic bold bold", ["bold", "italic"]),
    ],
)
def test_markdown_v2_is_parsed_into_text_and_entities(
    markup: str, shown: str, entities: list[str]
) -> None:
    parsed = parse_formatted_text(markup, "MarkdownV2")
    assert parsed.text == shown
    assert sorted(e["type"] for e in parsed.entities) == sorted(entities)


@pytest.mark.parametrize(
    ("markup", "why"),
    [
        ("1.5", "Character '.' is reserved and must be escaped with the preceding '\\'"),
        ("a-b", "Character '-' is reserved"),
        ("*bold", "Can't find end of Bold entity at byte offset 0"),
        ("é_it", "Can't find end of Italic entity at byte offset 2"),
        ("*a _b* c_", "Can't find end of Italic entity at byte offset 8"),
        ("_a__b_", "Can't find end of Italic entity"),
        ("[x](http://a", "Can't find end of a URL at byte offset 4"),
        ("```py\ncode", "Can't find end of PreCode entity at byte offset 0"),
        ("x > y", "Character '>' is reserved"),
    ],
)
async def test_markdown_v2_that_telegram_refuses_is_a_400(
    api: tuple[FakeBotApi, httpx.AsyncClient], markup: str, why: str
) -> None:
    fake, client = api
    response = await call(client, "sendMessage", chat_id=1, text=markup, parse_mode="MarkdownV2")
    assert response.status_code == 400
    assert response.json()["description"].startswith(CAN_NOT_PARSE + why)
    assert fake.messages(1) == []


@pytest.mark.parametrize(
    ("markup", "why"),
    [
        ("<p>x</p>", 'Unsupported start tag "p" at byte offset 0'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b>x", "Can't find end tag corresponding to start tag b"),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ('<a href="x>y', "Unclosed start tag at byte offset 0"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
        ("&#xD83D;", "Text contains invalid Unicode characters"),
    ],
)
async def test_html_that_telegram_refuses_is_a_400(
    api: tuple[FakeBotApi, httpx.AsyncClient], markup: str, why: str
) -> None:
    _fake, client = api
    response = await call(client, "sendMessage", chat_id=1, text=markup, parse_mode="HTML")
    assert response.status_code == 400
    assert response.json()["description"].startswith(CAN_NOT_PARSE + why)


def test_html_decodes_references_and_keeps_what_is_not_a_tag() -> None:
    parsed = parse_formatted_text(
        '<b>1 &lt; 2</b> &amp; 3 > 2 &copy; &#128512; <a href="https://x.example/?a=1&amp;b=2">x</a>',
        "HTML",
    )
    assert parsed.text == "1 < 2 & 3 > 2 &copy; \U0001f600 x"
    link = parsed.entities[-1]
    # The emoji before the link counts two UTF-16 units.
    assert (link["type"], link["url"], link["offset"]) == (
        "text_link",
        "https://x.example/?a=1&b=2",
        24,
    )


async def test_length_is_counted_after_parsing(api: tuple[FakeBotApi, httpx.AsyncClient]) -> None:
    fake, client = api
    escaped = "\\." * 4096  # 8,192 characters sent, 4,096 shown
    fits = await call(client, "sendMessage", chat_id=1, text=escaped, parse_mode="MarkdownV2")
    assert fits.status_code == 200
    assert fake.texts(1) == ["." * 4096]
    over = await call(client, "sendMessage", chat_id=2, text="." * 4097)
    assert over.status_code == 400
    assert over.json()["description"] == "Bad Request: message is too long"


async def test_text_is_trimmed_and_empty_text_refused(
    api: tuple[FakeBotApi, httpx.AsyncClient],
) -> None:
    fake, client = api
    assert (await call(client, "sendMessage", chat_id=1, text="  hi \n")).status_code == 200
    assert fake.texts(1) == ["hi"]
    empty = await call(client, "sendMessage", chat_id=2, text="*  *", parse_mode="MarkdownV2")
    assert empty.status_code == 400
    assert empty.json()["description"] == "Bad Request: message text is empty"


async def test_captions_are_parsed_and_limited_to_1024(
    api: tuple[FakeBotApi, httpx.AsyncClient],
) -> None:
    fake, client = api
    caption = "*" + "x" * 1024 + "*"
    ok = await call(
        client,
        "sendPhoto",
        chat_id=1,
        photo="https://img.example/a.png",
        caption=caption,
        parse_mode="MarkdownV2",
    )
    assert ok.status_code == 200
    (message,) = fake.messages(1)
    assert message.caption == "x" * 1024
    over = await call(
        client, "sendPhoto", chat_id=1, photo="https://img.example/a.png", caption="x" * 1025
    )
    assert over.status_code == 400
    assert over.json()["description"] == "Bad Request: message caption is too long"
    bad = await call(
        client, "sendDocument", chat_id=1, document="file-9", caption="a.b", parse_mode="MarkdownV2"
    )
    assert bad.json()["description"].startswith(CAN_NOT_PARSE)


@pytest.mark.parametrize(
    ("method", "params", "description"),
    [
        ("sendMessage", {"text": "hi"}, "Bad Request: chat_id is empty"),
        ("sendMessage", {"chat_id": 1}, "Bad Request: message text is empty"),
        ("sendMessage", {"chat_id": {"id": 1}, "text": "hi"}, "Bad Request: chat not found"),
        (
            "editMessageText",
            {"chat_id": 1, "text": "hi"},
            "Bad Request: message identifier is not specified",
        ),
        (
            "editMessageText",
            {"chat_id": 1, "message_id": 5, "text": "hi"},
            "Bad Request: message to edit not found",
        ),
        ("sendPhoto", {"chat_id": 1}, "Bad Request: there is no photo in the request"),
        ("sendDocument", {"chat_id": 1}, "Bad Request: there is no document in the request"),
        (
            "sendChatAction",
            {"chat_id": 1, "action": "dancing"},
            "Bad Request: wrong parameter action in request",
        ),
        ("getFile", {}, "Bad Request: invalid file_id"),
        ("getUpdates", {"offset": "soon"}, 'Bad Request: field "offset" must be of type Integer'),
        (
            "sendMessage",
            {"chat_id": 1, "text": "hi", "parse_mode": "Markdown3"},
            "Bad Request: unsupported parse_mode Markdown3",
        ),
    ],
)
async def test_missing_or_wrong_fields_are_a_400(
    api: tuple[FakeBotApi, httpx.AsyncClient], method: str, params: dict[str, Any], description: str
) -> None:
    fake, client = api
    response = await call(client, method, **params)
    assert response.status_code == 400
    assert response.json() == {"ok": False, "error_code": 400, "description": description}
    assert fake.errors[-1].description == description


async def test_get_updates_conflicts_with_a_webhook_and_with_another_poll(
    api: tuple[FakeBotApi, httpx.AsyncClient],
) -> None:
    _fake, client = api
    await call(client, "setWebhook", url="https://bot.example/hook")
    refused = await call(client, "getUpdates")
    assert refused.status_code == 409
    assert "can't use getUpdates method while webhook is active" in refused.json()["description"]
    await call(client, "deleteWebhook")
    first = asyncio.ensure_future(call(client, "getUpdates", timeout=30))
    # A call is recorded in the same step that starts its wait.
    await wait_until(lambda: len(_fake.calls_of("getUpdates")) == 2, "the first poll")
    second = await call(client, "getUpdates", timeout=0)
    assert second.status_code == 200
    ended = await first
    assert ended.status_code == 409
    assert "terminated by other getUpdates request" in ended.json()["description"]


async def test_a_second_message_to_a_chat_within_its_window_gets_429() -> None:
    fake = FakeBotApi(TOKEN, rate_limits=RateLimits(chat_window=60.0))
    async with serving(fake) as client:
        assert (await call(client, "sendMessage", chat_id=1, text="one")).status_code == 200
        too_soon = await call(client, "sendMessage", chat_id=1, text="two")
        # Another chat has its own window.
        other = await call(client, "sendMessage", chat_id=2, text="one")
    assert too_soon.status_code == 429
    assert too_soon.json()["description"].startswith("Too Many Requests: retry after ")
    assert 1 <= too_soon.json()["parameters"]["retry_after"] <= 60
    assert other.status_code == 200
    assert fake.texts(1) == ["one"]
    assert [e.error_code for e in fake.errors] == [429]


async def test_a_group_past_its_messages_per_minute_gets_429() -> None:
    fake = FakeBotApi(TOKEN, rate_limits=RateLimits(per_chat=100, per_group=2))
    async with serving(fake) as client:
        sent = [await call(client, "sendMessage", chat_id=-5, text=t) for t in ("a", "b", "c")]
        private = await call(client, "sendMessage", chat_id=5, text="d")
    assert [r.status_code for r in sent] == [200, 200, 429]
    assert 1 <= sent[2].json()["parameters"]["retry_after"] <= 60
    assert private.status_code == 200


async def test_files_over_the_download_limit_are_too_big(
    api: tuple[FakeBotApi, httpx.AsyncClient],
) -> None:
    fake, client = api
    file_id = fake.add_file(b"x" * (20 * 1024 * 1024 + 1))
    response = await call(client, "getFile", file_id=file_id)
    assert response.json()["description"] == "Bad Request: file is too big"


async def test_a_failure_can_answer_with_a_proxy_page(
    api: tuple[FakeBotApi, httpx.AsyncClient],
) -> None:
    fake, client = api
    fake.fail_next("sendMessage", error_code=502, body="<html><h1>502 Bad Gateway</h1></html>")
    response = await call(client, "sendMessage", chat_id=1, text="hi")
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert (await call(client, "sendMessage", chat_id=1, text="hi")).status_code == 200


async def test_a_held_call_is_answered_when_released(
    api: tuple[FakeBotApi, httpx.AsyncClient],
) -> None:
    fake, client = api
    held = fake.hold("sendMessage", chat_id=7)
    pending = asyncio.ensure_future(call(client, "sendMessage", chat_id=7, text="later"))
    other = await call(client, "sendMessage", chat_id=8, text="now")
    assert other.status_code == 200
    await wait_until(lambda: held.waiting == 1, "the call to be held")
    assert not pending.done()
    held.release()
    assert (await pending).status_code == 200
    assert fake.texts(7) == ["later"]

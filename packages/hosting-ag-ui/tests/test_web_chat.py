"""The web chat in a real browser: Debian's Chromium, headless, driven by Playwright.

Each test starts a host on a loopback port and a browser with a new, empty profile.
The last test takes the screenshot ``docs/web-chat.md`` shows; it replaces
``docs/web-chat.png`` only when ``UPDATE_DOCS_SCREENSHOT=1`` is set, so a test run
leaves the checkout as it found it.
"""

from __future__ import annotations

import asyncio
import base64
import os
import tempfile
import threading
from collections.abc import Generator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from agent_framework import Agent, AgentResponseUpdate, tool
from agent_framework_hosting import AgentFrameworkHost
from agent_framework_hosting.testing import LoopbackServer, OfflineChatClient, review_workflow
from agent_framework_hosting_ag_ui import AGUIChannel
from playwright.sync_api import BrowserContext, Page, expect, sync_playwright

from ._agui import BearerKeys
from ._environment import require_chromium

DOCS = Path(__file__).resolve().parents[3] / "docs"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SECRET = "internal-detail-7f3a"
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
LONG = " ".join(f"word{n}" for n in range(60))


@tool
def weather(city: str) -> str:
    """Report the weather in a city."""
    return f"Sunny and 21 °C in {city}"


def agent(**options: Any) -> Agent:
    paced: dict[str, Any] = {"delay": 0.03, "chunks": 60, **options}
    client = OfflineChatClient(**paced)
    return Agent(client=client, name="assistant", tools=[weather])


class HeldReply:
    """A stream update hook that holds a reply after its first update until released.

    The page shows the reply mid-stream for as long as the test needs to see it so.
    """

    def __init__(self) -> None:
        self.updates = 0
        self.release = threading.Event()

    async def __call__(self, update: AgentResponseUpdate) -> AgentResponseUpdate:
        self.updates += 1
        if self.updates == 2:
            await asyncio.to_thread(self.release.wait)
        return update


@contextmanager
def chat(
    target: Any, *, held: HeldReply | None = None, **host_options: Any
) -> Generator[tuple[Page, str]]:
    """A page of the web chat at ``/`` of a host serving ``target``, in a fresh browser."""
    executable = require_chromium()
    channel = AGUIChannel(page_path="/", stream_update_hook=held)
    host = AgentFrameworkHost(target, channels=[channel], **host_options)
    with (
        LoopbackServer(host.app) as server,
        tempfile.TemporaryDirectory() as profile,
        sync_playwright() as driver,
    ):
        context: BrowserContext = driver.chromium.launch_persistent_context(
            profile,
            executable_path=executable,
            args=FLAGS,
            viewport={"width": 1200, "height": 760},
            color_scheme="light",
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.goto(server.base_url + "/")
            yield page, server.base_url
        finally:
            if held is not None:
                held.release.set()  # a reply still held must end for the host to stop
            context.close()


@pytest.fixture
def page() -> Generator[Page]:
    with chat(agent()) as (opened, _):
        yield opened


def send(page: Page, text: str) -> None:
    box = page.get_by_label("Message", exact=True)
    box.fill(text)
    box.press("Enter")


def assistant(page: Page) -> Any:
    return page.locator('.message[data-role="assistant"] .bubble')


def test_a_message_gets_its_reply_streamed() -> None:
    held = HeldReply()
    with chat(agent(), held=held) as (page, _):
        send(page, "hello there")
        streaming = page.locator('.message[data-role="assistant"][data-streaming="true"]')
        expect(streaming).to_have_count(1)
        expect(assistant(page)).to_have_text("Echo:")  # the first update, the rest held
        held.release.set()
        expect(assistant(page)).to_have_text("Echo: hello there (turn 1)")
        expect(streaming).to_have_count(0)
        finished = page.locator('.message[data-role="assistant"][data-streaming="false"]')
        expect(finished).to_have_count(1)


def test_a_reload_in_the_middle_of_a_reply_shows_it_complete(page: Page) -> None:
    send(page, LONG)
    expect(assistant(page)).to_contain_text("Echo: word0")
    page.reload()
    expect(assistant(page)).to_have_text(f"Echo: {LONG} (turn 1)", timeout=20_000)
    expect(page.locator('.message[data-role="user"]')).to_have_count(1)
    expect(assistant(page)).to_have_count(1)


def test_a_new_conversation_starts_a_new_thread(page: Page) -> None:
    send(page, "first thread")
    expect(assistant(page)).to_have_text("Echo: first thread (turn 1)")
    page.get_by_role("button", name="New conversation").click()
    expect(page.locator(".message")).to_have_count(0)
    expect(page.get_by_role("heading", level=1)).to_have_text("New conversation")
    send(page, "second thread")
    expect(assistant(page)).to_have_text("Echo: second thread (turn 1)")
    threads = page.get_by_role("navigation", name="Conversations").get_by_role("listitem")
    expect(threads).to_have_count(2)
    threads.filter(has_text="first thread").get_by_role("button").click()
    expect(assistant(page)).to_have_text("Echo: first thread (turn 1)")


def test_an_attached_image_goes_with_the_message(page: Page) -> None:
    page.get_by_label("Attach an image").set_input_files(
        files=[{"name": "dot.png", "mimeType": "image/png", "buffer": PIXEL}]
    )
    expect(page.get_by_role("img", name="dot.png")).to_be_visible()
    page.get_by_role("button", name="Send").click()
    expect(assistant(page)).to_have_text("Echo: [image] (turn 1)")
    expect(page.locator('.message[data-role="user"] img')).to_have_count(1)


def test_a_tool_call_shows_its_arguments_and_result(page: Page) -> None:
    send(page, "weather in Lisbon")
    card = page.locator('.tool-call[data-tool="weather"]')
    expect(card).to_have_attribute("data-state", "done")
    card.locator("summary").click()
    expect(card.locator(".tool-result")).to_have_text("Sunny and 21 °C in weather in Lisbon")
    expect(card.locator(".tool-args")).to_contain_text('"city": "weather in Lisbon"')


def test_markdown_from_the_agent_is_rendered_and_html_is_not(page: Page) -> None:
    send(page, '**bold** <img src="x" onerror="document.title=1"> `code`')
    bubble = assistant(page)
    expect(bubble.locator("strong")).to_have_text("bold")
    expect(bubble.locator("code")).to_have_text("code")
    expect(bubble).to_contain_text('<img src="x" onerror="document.title=1">')
    expect(bubble.locator("img")).to_have_count(0)


def test_an_agent_failure_is_shown_as_an_error_without_internals() -> None:
    with chat(agent(error=RuntimeError(SECRET))) as (page, _):
        send(page, "fail please")
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("The agent failed to answer.")
        assert SECRET not in page.content()


def test_a_workflows_question_is_answered_from_the_page() -> None:
    with chat(lambda: review_workflow()) as (page, _):
        send(page, "my essay")
        question = page.get_by_role("group", name="The agent asks for an answer")
        expect(question).to_contain_text('"reviewer": 1')
        question.get_by_role("button", name="Approve").click()
        expect(assistant(page).last).to_have_text("Approved by reviewer 1: Draft 1: my essay")
        expect(question).to_have_count(0)


def test_a_host_that_needs_a_key_asks_for_it_and_keeps_it() -> None:
    auth = BearerKeys({"sesame": "alice"})
    with chat(agent(), auth=auth) as (page, _):
        dialog = page.get_by_role("dialog")
        expect(dialog).to_be_visible()
        dialog.get_by_label("API key").fill("sesame")
        dialog.get_by_role("button", name="Save").click()
        send(page, "with a key")
        expect(assistant(page)).to_have_text("Echo: with a key (turn 1)")
        page.reload()
        expect(assistant(page)).to_have_text("Echo: with a key (turn 1)")
        expect(page.get_by_role("dialog")).to_be_hidden()


def test_the_page_loads_nothing_from_anywhere_but_the_host(page: Page) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.reload()
    send(page, "hello")
    expect(assistant(page)).to_have_text("Echo: hello (turn 1)")
    origin = page.url.split("/", 3)[:3]
    assert requested
    assert all(url.split("/", 3)[:3] == origin for url in requested), requested


def test_the_screenshot_of_the_docs() -> None:
    with chat(agent(delay=0, chunks=4)) as (page, _):
        send(page, "What is the weather in Lisbon?")
        expect(page.locator(".tool-call")).to_have_attribute("data-state", "done")
        expect(assistant(page)).to_have_count(1)
        send(page, "Thanks! Summarize:\n- **sunny**\n- `21 °C`")
        expect(assistant(page)).to_have_count(2)
        expect(page.locator('.message[data-streaming="true"]')).to_have_count(0)
        page.locator(".tool-call summary").click()
        expect(page.locator(".tool-call[open]")).to_have_count(1)
        page.mouse.move(0, 0)
        page.evaluate("document.activeElement && document.activeElement.blur()")
        shot = page.screenshot(animations="disabled", caret="hide")
    assert shot.startswith(b"\x89PNG")
    target = DOCS / "web-chat.png"
    assert target.read_bytes().startswith(b"\x89PNG")
    if os.environ.get("UPDATE_DOCS_SCREENSHOT") == "1" and target.read_bytes() != shot:
        target.write_bytes(shot)

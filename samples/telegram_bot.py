"""Serve an agent as a Telegram bot, by long polling (no public URL needed).

With a real bot (token from @BotFather in TELEGRAM_BOT_TOKEN):

    TELEGRAM_BOT_TOKEN=123:abc uv run samples/telegram_bot.py

Offline, against the repository's local fake of the Bot API, with a short scripted chat
(a message, a follow-up, a photo and a document with captions, /new) printed as it happens:

    uv run samples/telegram_bot.py --fake

Without OPENAI_API_KEY the agent runs on the offline chat client; with it, on OpenAI
(model from OPENAI_MODEL, default gpt-4o-mini). STATE_DIR keeps sessions across restarts.
TELEGRAM_ALLOWED_USER_IDS (comma-separated user ids) answers only those users; anyone
else is told once that the bot is private. For a webhook instead of polling, pass
``webhook_url=`` (and serve the host behind HTTPS) and a fixed ``secret_token=``, so that a
restart keeps the secret Telegram knows.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
from typing import Any

from agent_framework import Agent
from agent_framework_hosting import AgentFrameworkHost
from agent_framework_hosting.testing import LoopbackServer, OfflineChatClient
from agent_framework_hosting_telegram import TelegramChannel
from agent_framework_hosting_telegram.testing import FakeBotApi, wait_until

FAKE_TOKEN = "100001:offline-sample-token"
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def chat_client() -> Any:
    if os.environ.get("OPENAI_API_KEY"):
        from agent_framework.openai import OpenAIChatClient

        return OpenAIChatClient(model=os.environ.get("OPENAI_MODEL", "gpt-4o-mini"))
    return OfflineChatClient()


def allowed_user_ids() -> set[int] | None:
    """The user ids in TELEGRAM_ALLOWED_USER_IDS, or None (everyone) when it is not set."""
    listed = os.environ.get("TELEGRAM_ALLOWED_USER_IDS", "").strip()
    return {int(part) for part in listed.split(",") if part.strip()} if listed else None


def build_host(
    token: str, *, api_base: str = "https://api.telegram.org", **options: Any
) -> AgentFrameworkHost:
    agent = Agent(client=chat_client(), name="telegram-bot", instructions="Be brief and friendly.")
    channel = TelegramChannel(
        bot_token=token,
        api_base=api_base,
        transport="polling",
        parse_mode="MarkdownV2",
        allowed_user_ids=allowed_user_ids(),
        **options,
    )
    return AgentFrameworkHost(
        agent, channels=[channel], state_dir=os.environ.get("STATE_DIR") or None
    )


async def chat_with_fake(script: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Run the bot against the fake Bot API, send ``script`` as one user, return the chat."""
    fake = FakeBotApi(FAKE_TOKEN, username="sample_bot")
    transcript: list[tuple[str, str]] = []
    with LoopbackServer(fake.app) as bot_api:
        host = build_host(FAKE_TOKEN, api_base=bot_api.base_url, polling_timeout=1)
        channel = host.channels[0]
        assert isinstance(channel, TelegramChannel)
        with LoopbackServer(host.app):
            for message in script:
                said = message.get("text") or f"[file] {message.get('caption', '')}".strip()
                transcript.append(("user", said))
                transcript.extend(("bot", text) for text in await say(fake, channel, message))
    return transcript


async def say(fake: FakeBotApi, channel: TelegramChannel, message: dict[str, Any]) -> list[str]:
    """Send one user message through the fake and return the bot's answers to it."""
    chat_id = 777
    seen = len(fake.messages(chat_id))
    update = fake.message_update(chat_id, **message)
    fake.enqueue(update)
    await wait_until(
        lambda: fake.confirmed_offset > update["update_id"] and not channel.pending_updates,
        "the bot's answer",
    )
    # Each text as Telegram shows it: the fake parses MarkdownV2 as Telegram does.
    return [sent.text or "[file]" for sent in fake.messages(chat_id)[seen:]]


SCRIPT: list[dict[str, Any]] = [
    {"text": "/start"},
    {"text": "Hello!"},
    {"text": "Do you remember me?"},
    {"photo": PIXEL, "caption": "What is in this picture?"},
    {
        "document": b"Standup: ship the release on Friday.",
        "mime_type": "text/plain",
        "file_name": "notes.txt",
        "caption": "Summarize my notes",
    },
    {"text": "/new"},
    {"text": "Hello again"},
]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--fake", action="store_true", help="use the local fake Bot API")
    args = parser.parse_args()
    if args.fake:
        for who, text in asyncio.run(chat_with_fake(SCRIPT)):
            print(f"{who:>4}: {text}")
        return
    token = os.environ.get("TELEGRAM_BOT_TOKEN")
    if not token:
        parser.error("set TELEGRAM_BOT_TOKEN, or pass --fake to run against the local fake")
    print("Polling Telegram; press Ctrl+C to stop.")
    build_host(token).serve(host="127.0.0.1", port=int(os.environ.get("PORT", "8080")))


if __name__ == "__main__":
    main()

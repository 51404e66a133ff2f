"""A local fake of the Telegram Bot API, for tests and for running a bot offline.

:class:`FakeBotApi` is a Starlette app that answers the Bot API methods a bot uses
(``getMe``, ``getUpdates``, ``sendMessage``, ``editMessageText``, ``sendPhoto``,
``sendDocument``, ``getFile`` and file downloads, ``setWebhook``, …) as strictly as
Telegram does, records every call and every error it answered, keeps each chat's
messages as they end up after edits, and can be told to fail or hold a method. Serve it
on a loopback port (``agent_framework_hosting.testing.LoopbackServer``) and point
``TelegramChannel(api_base=...)`` at it.

It is thread-safe: the server answers in its own thread while a test reads and feeds it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ._entities import EntityParseError, FormattedText, parse_formatted_text
from ._fake import BotCall, BotError, FakeBotApi, Hold, SentMessage
from ._rates import RateLimits

__all__ = [
    "BotCall",
    "BotError",
    "EntityParseError",
    "FakeBotApi",
    "FormattedText",
    "Hold",
    "RateLimits",
    "SentMessage",
    "parse_formatted_text",
    "wait_until",
]


async def wait_until(condition: Callable[[], bool], what: str, *, within: float = 30.0) -> None:
    """Wait until ``condition()`` holds, checking every 10 ms; raise `TimeoutError` naming ``what``.

    For example, that a polling bot fetched an update and answered it::

        await wait_until(
            lambda: fake.confirmed_offset > update["update_id"] and not channel.pending_updates,
            "the bot's answer",
        )
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)

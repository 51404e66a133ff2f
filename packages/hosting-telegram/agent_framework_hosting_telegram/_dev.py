"""The channel the dev command mounts when this package is installed: a bot, given a token."""

from __future__ import annotations

import os

from ._channel import TelegramChannel

__all__ = ["dev_channel"]


def dev_channel() -> TelegramChannel | str:
    """A long-polling bot for ``TELEGRAM_BOT_TOKEN``, or why there is none."""
    token = os.environ.get("TELEGRAM_BOT_TOKEN")
    if not token:
        return "set TELEGRAM_BOT_TOKEN to serve the bot too"
    return TelegramChannel(bot_token=token)

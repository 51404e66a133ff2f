"""Telegram Bot API channel for agent-framework-hosting: webhook and long polling."""

from ._api import TelegramApiError
from ._channel import TelegramChannel, telegram_isolation_key

__all__ = ["TelegramApiError", "TelegramChannel", "telegram_isolation_key"]

"""Who may talk to the bot: the allowlist, and one polite refusal per chat for everyone else."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Collection

from ._parse import TelegramMessage

__all__ = ["Allowlist", "checked_ids"]

REFUSAL_INTERVAL = 3600.0
"""Seconds before a chat that is not allowed is told so again."""


def checked_ids(ids: Collection[int] | None, name: str) -> frozenset[int] | None:
    """``ids`` as a set, after checking they are Telegram ids (integers)."""
    if ids is None:
        return None
    if isinstance(ids, str | bytes) or not all(type(i) is int for i in ids):
        raise ValueError(f"{name} must be a collection of integer Telegram ids, or None")
    return frozenset(ids)


class Allowlist:
    """Whom the bot answers; refusals to everyone else, at most one per chat per interval.

    With neither list, everyone is answered. Otherwise a message is answered when its
    sender is in ``user_ids`` or its chat is in ``chat_ids``.
    """

    def __init__(
        self,
        user_ids: frozenset[int] | None,
        chat_ids: frozenset[int] | None,
        *,
        refusal_interval: float = REFUSAL_INTERVAL,
        remembered_chats: int = 10_000,
    ) -> None:
        self._user_ids = user_ids
        self._chat_ids = chat_ids
        self._refusal_interval = refusal_interval
        self._remembered_chats = remembered_chats
        self._refused: OrderedDict[int, float] = OrderedDict()
        """When each chat was last refused (``time.monotonic()``), oldest first."""

    def allows(self, message: TelegramMessage) -> bool:
        """Whether ``message`` may reach the agent or the commands."""
        if self._user_ids is None and self._chat_ids is None:
            return True
        sender = message.sender.id if message.sender is not None else None
        return (self._user_ids is not None and sender in self._user_ids) or (
            self._chat_ids is not None and message.chat_id in self._chat_ids
        )

    def should_refuse(self, chat_id: int) -> bool:
        """Whether to tell ``chat_id`` it is not allowed now (once per interval per chat)."""
        now = time.monotonic()
        last = self._refused.get(chat_id)
        if last is not None and now - last < self._refusal_interval:
            return False
        self._refused[chat_id] = now
        self._refused.move_to_end(chat_id)
        while len(self._refused) > self._remembered_chats:
            self._refused.popitem(last=False)
        return True

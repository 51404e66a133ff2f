"""Telegram's limits on how fast a bot sends: ``429`` with ``retry_after`` when a window is full."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

__all__ = ["RateLimits", "RateModel"]


@dataclass(frozen=True)
class RateLimits:
    """How many messages a bot may send (or edit) per window, as the Bot API's FAQ states them.

    The defaults are Telegram's: one message per second in a chat, twenty per minute in a
    group, thirty per second in all. A send past a full window is answered ``429 Too Many
    Requests`` with ``retry_after``: the whole seconds until the oldest send in that window
    leaves it. Tests may shorten a window to meet a limit quickly.
    """

    per_chat: int = 1
    chat_window: float = 1.0
    per_group: int = 20
    group_window: float = 60.0
    overall: int = 30
    overall_window: float = 1.0


class RateModel:
    """The sends each chat (and the bot in all) made within its windows; not thread-safe."""

    def __init__(self, limits: RateLimits) -> None:
        self._limits = limits
        self._sent: dict[int | None, deque[float]] = {}
        """Times of accepted sends, per chat (``None``: every chat), oldest first."""

    def admit(self, chat_id: int, *, now: float) -> int | None:
        """Record a send to ``chat_id`` at ``now``; or, when a window is full, the seconds to wait.

        Group chats are the ones with negative ids, as Telegram numbers them.
        """
        limits = self._limits
        windows: list[tuple[int | None, int, float]] = [
            (chat_id, limits.per_chat, limits.chat_window)
        ]
        if chat_id < 0:
            windows.append((chat_id, limits.per_group, limits.group_window))
        windows.append((None, limits.overall, limits.overall_window))
        wait = 0.0
        for key, count, window in windows:
            sent = self._sent.setdefault(key, deque())
            recent = [at for at in sent if at > now - window]
            if len(recent) >= count:
                wait = max(wait, recent[-count] + window - now)
        if wait > 0:
            return max(1, math.ceil(wait))
        for key in (chat_id, None):
            sent = self._sent[key]
            sent.append(now)
            longest = max(limits.chat_window, limits.group_window, limits.overall_window)
            while sent and sent[0] <= now - longest:
                sent.popleft()
        return None

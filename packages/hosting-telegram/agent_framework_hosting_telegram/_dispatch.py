"""Accepting updates: redeliveries ignored, each chat in arrival order, a bounded number at once."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Collection
from typing import Literal, cast

from agent_framework_hosting import StateStore

from ._parse import TelegramUpdate

__all__ = ["Acceptance", "SeenUpdates", "UpdateDispatcher"]

logger = logging.getLogger("agent_framework.hosting.telegram")

Acceptance = Literal["accepted", "duplicate", "full"]


class SeenUpdates:
    """The latest update ids accepted, so that a redelivered update is ignored.

    They live in the host's state store: with ``state_dir`` (or a shared store) a redelivery
    is ignored after a restart, and by every replica sharing the store.
    """

    def __init__(self, store: StateStore, bot_id: str, *, size: int = 1024) -> None:
        self._store = store
        self._key = f"telegram:seen-updates:{bot_id}"
        self._size = size

    def __contains__(self, update_id: int) -> bool:
        return update_id in self._ids()

    def add(self, update_id: int) -> None:
        """Remember ``update_id``; the oldest id is forgotten past ``size``."""
        self._store.set(self._key, [*self._ids()[-(self._size - 1) :], update_id])

    def forget(self, update_ids: Collection[int]) -> None:
        """Forget ids whose handling did not finish, so a redelivery is answered."""
        self._store.set(self._key, [i for i in self._ids() if i not in update_ids])

    def _ids(self) -> list[int]:
        stored: object = self._store.get(self._key)
        if not isinstance(stored, list):
            return []
        return [i for i in cast("list[object]", stored) if isinstance(i, int)]


class UpdateDispatcher:
    """Runs each accepted update as a task, one chat's updates one after another.

    An update is taken in its chat's order when it is accepted, before anything is awaited,
    so replies (and commands such as ``/new``) keep the order the messages arrived in. At
    most ``capacity`` updates are held at once, those waiting behind an earlier message of
    their chat included; beyond that `accept` answers ``"full"`` and the update is not
    marked as seen.
    """

    def __init__(
        self,
        handle: Callable[[TelegramUpdate], Awaitable[None]],
        seen: SeenUpdates,
        *,
        capacity: int,
        shutdown_timeout: float,
    ) -> None:
        self._handle = handle
        self._seen = seen
        self._capacity = capacity
        self._shutdown_timeout = shutdown_timeout
        self._tasks: dict[asyncio.Task[None], int] = {}
        """Each update in progress, with its update id."""
        self._last_of_chat: dict[int, asyncio.Task[None]] = {}
        """The latest update of each chat with one in progress; dropped when it ends."""
        self._room = asyncio.Event()

    @property
    def pending(self) -> int:
        """Updates accepted and not yet fully answered."""
        return len(self._tasks)

    @property
    def free(self) -> int:
        """How many more updates can be accepted now."""
        return max(0, self._capacity - len(self._tasks))

    def accept(self, update: TelegramUpdate) -> Acceptance:
        """Start answering ``update`` after its chat's earlier updates, unless seen or full."""
        update_id = update.update_id
        if update_id in self._seen:
            logger.info("Ignoring duplicate Telegram update %s", update_id)
            return "duplicate"
        if not self.free:
            return "full"
        self._seen.add(update_id)
        chat = update.message.chat_id if update.message is not None else None
        previous = self._last_of_chat.get(chat) if chat is not None else None
        task = asyncio.create_task(
            self._answer(update, previous), name=f"telegram-update-{update_id}"
        )
        self._tasks[task] = update_id
        if chat is not None:
            self._last_of_chat[chat] = task
        task.add_done_callback(functools.partial(self._finished, chat))
        return "accepted"

    async def wait_for_room(self) -> None:
        """Return once at least one more update can be accepted."""
        while not self.free:
            self._room.clear()
            await self._room.wait()

    async def drain(self) -> None:
        """Let updates in progress finish (up to ``shutdown_timeout``), then cancel the rest.

        Cancelled updates are logged by id and forgotten as seen, so that a redelivery of one
        (after a restart, or by another replica) is answered rather than ignored.
        """
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(set(self._tasks), timeout=self._shutdown_timeout)
        if not pending:
            return
        cut_off = sorted(self._tasks[task] for task in pending)
        for task in pending:
            task.cancel()
        await asyncio.wait(pending)
        self._seen.forget(set(cut_off))
        logger.warning(
            "Shutdown cut off %d Telegram update(s) still being answered (update ids %s); "
            "they are not marked as seen, so a redelivery will be answered",
            len(cut_off),
            ", ".join(map(str, cut_off)),
        )

    async def _answer(self, update: TelegramUpdate, previous: asyncio.Task[None] | None) -> None:
        if previous is not None:
            # Only its end matters here: a failure was handled (and logged) in its own task.
            await asyncio.wait([previous])
        await self._handle(update)

    def _finished(self, chat: int | None, task: asyncio.Task[None]) -> None:
        del self._tasks[task]
        if chat is not None and self._last_of_chat.get(chat) is task:
            del self._last_of_chat[chat]
        self._room.set()

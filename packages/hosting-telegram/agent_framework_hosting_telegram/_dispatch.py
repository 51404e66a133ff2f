"""Accepting updates: redeliveries ignored, each chat in arrival order, a bounded number at once."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Collection
from typing import Literal

from agent_framework_hosting import StateStore

from ._parse import TelegramUpdate

__all__ = ["Acceptance", "SeenUpdates", "UpdateDispatcher"]

logger = logging.getLogger("agent_framework.hosting.telegram")

Acceptance = Literal["accepted", "full"]


class SeenUpdates:
    """The update ids taken for answering, so that a redelivered update is ignored.

    Each id is claimed with a write that succeeds only once, in the host's state store:
    with ``state_dir`` (or a shared store) a redelivery is ignored after a restart, and by
    every process sharing the store. An id is kept for ``ttl`` seconds (Telegram gives up
    redelivering an update within a day).
    """

    def __init__(self, store: StateStore, bot_id: str, *, ttl: float = 2 * 24 * 3600.0) -> None:
        self._store = store
        self._prefix = f"telegram:update:{bot_id}:"
        self._ttl = ttl

    async def claim(self, update_id: int) -> bool:
        """Take ``update_id`` for answering; ``False`` when it was taken before."""
        key = self._prefix + str(update_id)
        return await self._store.write(key, True, version=None, ttl=self._ttl) is not None

    async def forget(self, update_ids: Collection[int]) -> None:
        """Forget ids whose handling did not finish, so a redelivery is answered."""
        await self._store.delete(*(self._prefix + str(update_id) for update_id in update_ids))


class UpdateDispatcher:
    """Runs each accepted update as a task, one chat's updates one after another.

    An update is taken in its chat's order when it is accepted, before anything is awaited,
    so replies (and commands such as ``/new``) keep the order the messages arrived in; its
    task first claims its id, and ends at once when the id was claimed before (a
    redelivery). At most ``capacity`` updates are held at once, those waiting behind an
    earlier message of their chat included; beyond that `accept` answers ``"full"`` and
    the update is not claimed.
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
        """Start answering ``update`` after its chat's earlier updates, unless full."""
        update_id = update.update_id
        if not self.free:
            return "full"
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
        await self._seen.forget(set(cut_off))
        logger.warning(
            "Shutdown cut off %d Telegram update(s) still being answered (update ids %s); "
            "they are not marked as seen, so a redelivery will be answered",
            len(cut_off),
            ", ".join(map(str, cut_off)),
        )

    async def _answer(self, update: TelegramUpdate, previous: asyncio.Task[None] | None) -> None:
        if not await self._seen.claim(update.update_id):
            logger.info("Ignoring duplicate Telegram update %s", update.update_id)
            return
        if previous is not None:
            # Only its end matters here: a failure was handled (and logged) in its own task.
            await asyncio.wait([previous])
        await self._handle(update)

    def _finished(self, chat: int | None, task: asyncio.Task[None]) -> None:
        del self._tasks[task]
        if chat is not None and self._last_of_chat.get(chat) is task:
            del self._last_of_chat[chat]
        self._room.set()

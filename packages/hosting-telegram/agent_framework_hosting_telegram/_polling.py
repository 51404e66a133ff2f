"""The ``getUpdates`` loop: updates fetched as room allows, confirmed, backed off on errors."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, cast

from agent_framework_hosting import StateStore

from ._api import BotApi, TelegramApiError
from ._dispatch import UpdateDispatcher
from ._parse import UpdateError, parse_update

__all__ = ["Poller", "polling_backoff"]

logger = logging.getLogger("agent_framework.hosting.telegram")


def polling_backoff(failures: int) -> float:
    """Seconds before polling again after ``failures`` failures in a row: 0.5, 1, 2, … 30."""
    return min(30.0, 0.5 * 2 ** min(failures - 1, 6))


class Poller:
    """Long-polls ``getUpdates`` for one host until stopped, handing updates to the dispatcher.

    Only as many updates are fetched as the dispatcher has room for: the rest wait at
    Telegram, unconfirmed, until updates in progress finish. An update that is not valid
    is logged and confirmed, so that it is not fetched again; nothing of it is answered.

    Of several processes sharing the state store (replicas), one polls at a time: the one
    holding the bot's polling lease, renewed while it polls. The others wait for it, and
    one takes over within ``lease_seconds`` when the poller's process dies.
    """

    def __init__(
        self,
        api: BotApi,
        dispatcher: UpdateDispatcher,
        *,
        timeout: int,
        store: StateStore,
        bot_id: str,
        lease_seconds: float = 15.0,
    ) -> None:
        self._api = api
        self._dispatcher = dispatcher
        self._timeout = timeout
        self._store = store
        self._lease_key = f"telegram:poller:{bot_id}"
        # In one process the poller cannot outlive its host: its lease needs no expiry.
        self._lease_seconds = lease_seconds if store.shared else 365 * 24 * 3600.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the loop in a task of the running event loop."""
        self._task = asyncio.create_task(self._run(), name="telegram-poll")

    async def stop(self) -> None:
        """Cancel the loop and wait until it has ended."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _run(self) -> None:
        """Poll while this process holds the bot's polling lease; wait for it otherwise."""
        while True:
            lease = await self._store.acquire(
                self._lease_key, ttl=self._lease_seconds, wait=self._lease_seconds
            )
            if lease is None:
                continue  # another process polls: look again
            polling = asyncio.create_task(self._poll(), name="telegram-getUpdates")
            try:
                while not polling.done():
                    await asyncio.wait({polling}, timeout=self._lease_seconds / 3)
                    if not polling.done() and not await self._store.renew(
                        lease, ttl=self._lease_seconds
                    ):
                        logger.warning("Lost the polling lease; another process polls now")
                        break
            finally:
                polling.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await polling
                await self._store.release(lease)

    async def _poll(self) -> None:
        offset: int | None = None
        failures = 0
        while True:
            await self._dispatcher.wait_for_room()
            payload: dict[str, Any] = {
                "timeout": self._timeout,
                "allowed_updates": ["message"],
                "limit": min(100, self._dispatcher.free),
            }
            if offset is not None:
                payload["offset"] = offset
            try:
                fetched = await self._api.call(
                    "getUpdates", payload, read_timeout=self._timeout + 10, retry=False
                )
                if not isinstance(fetched, list):
                    raise TelegramApiError("getUpdates", "the result is not a list of updates")
                items = cast("list[object]", fetched)
                next_offset = self._take(items, offset)
                if items and next_offset == offset:
                    raise TelegramApiError("getUpdates", "no update in the batch has an id")
            except TelegramApiError as error:
                failures += 1
                wait = error.retry_after or polling_backoff(failures)
                logger.warning("%s; polling again in %.1fs", error, wait)
                await asyncio.sleep(wait)
                continue
            failures = 0
            offset = next_offset

    def _take(self, items: list[object], offset: int | None) -> int | None:
        """Accept the updates in ``items`` while there is room; return the offset to confirm."""
        for item in items:
            try:
                update = parse_update(item)
            except UpdateError as error:
                update_id = _update_id(item)
                logger.warning(
                    "Skipping Telegram update %s, which is not valid: %s", update_id, error
                )
                if update_id is not None:
                    offset = max(offset or 0, update_id + 1)
                continue
            if self._dispatcher.accept(update) == "full":
                break  # not confirmed: the next getUpdates returns it again
            offset = max(offset or 0, update.update_id + 1)
        return offset


def _update_id(item: object) -> int | None:
    """The id of an update that is otherwise not valid, when it has a usable one."""
    if not isinstance(item, dict):
        return None
    value: object = cast("dict[str, Any]", item).get("update_id")
    return value if type(value) is int and abs(value) < 2**63 else None

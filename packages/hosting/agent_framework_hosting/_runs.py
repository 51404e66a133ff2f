"""Runs that outlive their request: leased, cancelled from anywhere, settled when orphaned.

A channel that lets a run go on after the request that started it (a background
response, an A2A task, a run a browser reconnects to) starts it here. The process that
runs it holds the run's lease in the state store and renews it while the run lasts; a
cancel from any process sharing the store reaches it within a third of the lease. When
the owner dies (``kill -9``, a lost replica) its lease expires, and whoever next looks
at the run — a reader, a follower, a cancel — finds it orphaned and settles it through
the channel's ``settle`` callback (which records the run as failed, interrupted), once.
Nothing is settled at startup: a run another process still owns is never touched.

:class:`RunLog` keeps a run's events (strings the channel frames) in a log of the store,
replayed and followed from any process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from typing import Any, cast

from ._state import Lease, StateStore

__all__ = ["BackgroundRuns", "RunLog", "RunLogWriter"]

logger = logging.getLogger("agent_framework.hosting")

_IN_PROCESS_TTL = 365 * 24 * 3600.0
_CANCEL_TTL = 3600.0


class BackgroundRuns:
    """One channel's runs that outlive their requests.

    Args:
        store: The host's state store.
        namespace: The channel's key prefix (``"responses"``).
        settle: Records an orphaned run's end (failed, interrupted) in the channel's
            terms; called once per orphaned run, by whichever process finds it.
        lease_seconds: How long a run's owner may go silent before its run counts as
            orphaned (with a store other processes share; in one process a run cannot
            outlive its owner).
        ended_ttl: How long the store keeps what it knows of a run after it ended
            (``None``: until :meth:`forget`); a run forgotten reads as ended.

    """

    def __init__(
        self,
        store: StateStore,
        namespace: str,
        *,
        settle: Callable[[str], Awaitable[None]],
        lease_seconds: float = 15.0,
        ended_ttl: float | None = None,
    ) -> None:
        self._store = store
        self._prefix = f"{namespace}:run:"
        self._settle = settle
        self._ended_ttl = ended_ttl
        self._ttl = lease_seconds if store.shared else _IN_PROCESS_TTL
        self._beat = min(lease_seconds / 3, 5.0)
        self._tasks: dict[str, asyncio.Task[None]] = {}

    @property
    def running(self) -> int:
        """How many runs this process owns now."""
        return len(self._tasks)

    async def start(
        self,
        run_id: str,
        work: Coroutine[Any, Any, None],
        *,
        on_end: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        """Run ``work`` as ``run_id``'s run, owned by this process until it ends.

        ``on_end`` is awaited once the run has ended, however it ended (done, failed,
        cancelled — even before it began).

        Raises:
            RuntimeError: ``run_id`` already has a run.
            StateUnavailable: The state store failed before the run began.

        """
        try:
            lease = await self._store.acquire(self._prefix + run_id, ttl=self._ttl)
            if lease is None:
                raise RuntimeError(f"Run {run_id!r} already has an owner")
            await self._store.set(self._state(run_id), {"ended": False})
        except BaseException:
            # The run never began (its id is taken, the store failed): it ends here.
            work.close()
            if on_end is not None:
                await on_end()
            raise
        # Returns once the run's task is inside its clean-up: a cancel that comes right
        # after still ends it properly (a task cancelled before its first step would not).
        started = asyncio.Event()
        self._tasks[run_id] = asyncio.create_task(self._own(run_id, lease, work, started, on_end))
        await started.wait()

    def is_local(self, run_id: str) -> bool:
        """Whether this process owns ``run_id``'s run and it goes on."""
        return run_id in self._tasks

    async def cancel(self, run_id: str) -> bool:
        """Stop ``run_id``'s run wherever it runs and wait for it; whether it was running.

        When another process runs it, the wait is a few seconds at most. An orphaned run
        is settled instead: its owner is gone.
        """
        task = self._tasks.get(run_id)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            return True
        if await self._ended(run_id) or await self.settle_if_orphaned(run_id):
            return False
        await self._store.set(self._cancel(run_id), True, ttl=_CANCEL_TTL)
        await self._store.notify(self._cancel(run_id))
        for _ in range(int(self._beat * 4 / 0.05) + 1):
            if await self._ended(run_id):
                break
            await self._store.wait(self._ended_topic(run_id), seconds=0.05)
        return True

    async def settle_if_orphaned(self, run_id: str) -> bool:
        """Settle ``run_id``'s run if its owner is gone; whether this call settled it."""
        if run_id in self._tasks or await self._ended(run_id):
            return False
        lease = await self._store.acquire(self._prefix + run_id, ttl=self._ttl)
        if lease is None:
            return False  # its owner is alive
        try:
            if await self._ended(run_id):
                return False  # ended between the two looks
            logger.warning("Run %s lost its owner; settling it as interrupted", run_id)
            await self._settle(run_id)
            await self._store.set(self._state(run_id), {"ended": True}, ttl=self._ended_ttl)
        finally:
            await self._store.release(lease)
        await self._store.notify(self._ended_topic(run_id))
        return True

    async def forget(self, run_id: str) -> None:
        """Drop what the store keeps of ``run_id``'s run (after it ended, or was deleted)."""
        await self._store.delete(self._state(run_id), self._cancel(run_id))

    async def stop_all(self) -> None:
        """Cancel every run this process owns and wait for them (at shutdown)."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _own(
        self,
        run_id: str,
        lease: Lease,
        work: Coroutine[Any, Any, None],
        started: asyncio.Event,
        on_end: Callable[[], Awaitable[object]] | None,
    ) -> None:
        keeper = asyncio.create_task(self._keep(run_id, lease, asyncio.current_task()))
        try:
            started.set()
            await work
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("Run %s failed", run_id)
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            self._tasks.pop(run_id, None)
            await self._store.set(self._state(run_id), {"ended": True}, ttl=self._ended_ttl)
            await self._store.delete(self._cancel(run_id))
            await self._store.release(lease)
            await self._store.notify(self._ended_topic(run_id))
            if on_end is not None:
                await on_end()

    async def _keep(self, run_id: str, lease: Lease, owner: asyncio.Task[Any] | None) -> None:
        """Renew the lease while the run lasts; stop the run when a cancel comes."""
        while True:
            await self._store.wait(self._cancel(run_id), seconds=self._beat)
            if await self._store.get(self._cancel(run_id)):
                if owner is not None:
                    owner.cancel()
                return
            if self._store.shared and not await self._store.renew(lease, ttl=self._ttl):
                logger.warning("Run %s lost its lease while it ran", run_id)

    async def _ended(self, run_id: str) -> bool:
        state = await self._store.get(self._state(run_id))
        if not isinstance(state, Mapping):
            return True  # no run, or one long forgotten
        return bool(cast("Mapping[str, Any]", state).get("ended"))

    def _state(self, run_id: str) -> str:
        return f"{self._prefix}{run_id}:state"

    def _cancel(self, run_id: str) -> str:
        return f"{self._prefix}{run_id}:cancel"

    def _ended_topic(self, run_id: str) -> str:
        return f"{self._prefix}{run_id}:ended"


class RunLog:
    """The events of runs, as logs of the store: written once, replayed and followed anywhere.

    A log belongs to a partition: in any other it reads as missing. It is complete once
    its writer closes it; it goes when it is deleted (a follower then ends), or ``ttl``
    seconds after it was completed (``None``: only when deleted).
    """

    def __init__(self, store: StateStore, namespace: str, *, ttl: float | None = None) -> None:
        self._store = store
        self._prefix = f"{namespace}:log:"
        self._ttl = ttl

    async def open(self, run_id: str, partition: str | None) -> RunLogWriter:
        """Start the empty log of ``run_id`` in ``partition``; its writer."""
        owner = self._owner(run_id)
        await self._store.set(owner, {"partition": partition, "done": False})
        return RunLogWriter(self._store, owner, self._entries(run_id), partition, ttl=self._ttl)

    async def writer(self, run_id: str) -> RunLogWriter | None:
        """A writer appending to ``run_id``'s existing log (``None`` when it has none)."""
        owner = await self._store.get(self._owner(run_id))
        if not isinstance(owner, Mapping):
            return None
        partition = cast("Mapping[str, Any]", owner).get("partition")
        return RunLogWriter(
            self._store, self._owner(run_id), self._entries(run_id), partition, ttl=self._ttl
        )

    async def exists(self, run_id: str, partition: str | None) -> bool:
        """Whether ``run_id`` has a log in ``partition``."""
        return await self._fields(run_id, partition) is not None

    async def delete(self, run_id: str, partition: str | None) -> bool:
        """Remove the log of ``run_id`` if it exists in ``partition``; whether it did."""
        if not await self.exists(run_id, partition):
            return False
        await self._store.delete(self._owner(run_id), self._entries(run_id))
        return True

    async def entries(self, run_id: str, *, after: int = -1) -> list[str]:
        """The log's entries after index ``after`` (the caller checked the partition)."""
        return await self._store.read_log(self._entries(run_id), after=after)

    async def follow(
        self,
        run_id: str,
        partition: str | None,
        *,
        after: int,
        keepalive: float,
        on_silence: Callable[[], Awaitable[object]] | None = None,
    ) -> AsyncIterator[str | None]:
        """The entries after index ``after``, live until the log is complete or deleted.

        ``None`` comes whenever ``keepalive`` seconds pass without an entry (send a
        keep-alive); ``on_silence`` is awaited then too (the place to settle a run whose
        owner is gone, which completes its log).
        """
        position = after
        key = self._entries(run_id)
        if await self._fields(run_id, partition) is None:
            return
        while True:
            entries = await self._store.read_log(key, after=position)
            if not entries:
                fields = await self._fields(run_id, partition)
                if fields is None:
                    return
                if fields.get("done"):
                    # Complete: what was appended before it was marked so, then the end.
                    entries = await self._store.read_log(key, after=position)
                    if not entries:
                        return
                else:
                    # An append (or the log's deletion) ends the wait.
                    entries = await self._store.read_log(key, after=position, wait=keepalive)
                    if not entries:
                        if await self._fields(run_id, partition) is None:
                            return
                        if on_silence is not None:
                            await on_silence()
                        yield None
                        continue
            for entry in entries:
                yield entry
            position += len(entries)

    async def _fields(self, run_id: str, partition: str | None) -> Mapping[str, Any] | None:
        owner = await self._store.get(self._owner(run_id))
        if not isinstance(owner, Mapping):
            return None
        fields = cast("Mapping[str, Any]", owner)
        return fields if fields.get("partition") == partition else None

    def _owner(self, run_id: str) -> str:
        return f"{self._prefix}{run_id}"

    def _entries(self, run_id: str) -> str:
        return f"{self._prefix}{run_id}:entries"


class RunLogWriter:
    """Appends one run's entries, and stops once its log is deleted.

    It finds out within ``check_every`` entries that the log was deleted (by any
    process), then removes what it appended since and writes no more. Once closed, the
    log expires after ``ttl`` seconds when given.
    """

    check_every = 64

    def __init__(
        self,
        store: StateStore,
        owner: str,
        entries: str,
        partition: str | None,
        *,
        ttl: float | None = None,
    ) -> None:
        self._store = store
        self._owner = owner
        self._entries = entries
        self._partition = partition
        self._ttl = ttl
        self._deleted = False

    @property
    def deleted(self) -> bool:
        """Whether the log was found deleted (nothing is written any more)."""
        return self._deleted

    async def append(self, entry: str) -> int | None:
        """Append ``entry``; its index, or ``None`` once the log was deleted."""
        if self._deleted:
            return None
        index = await self._store.append(self._entries, entry)
        if index > 0 and index % self.check_every == 0 and not await self._still_there():
            return None
        return index

    async def close(self) -> None:
        """Mark the log complete (followers end once they have read it all); it expires."""
        if self._deleted or not await self._still_there():
            return
        done = {"partition": self._partition, "done": True}
        await self._store.set(self._owner, done, ttl=self._ttl)
        if self._ttl is not None:
            await self._store.expire(self._entries, self._ttl)

    async def _still_there(self) -> bool:
        owner = await self._store.get(self._owner)
        if (
            isinstance(owner, Mapping)
            and cast("Mapping[str, Any]", owner).get("partition") == self._partition
        ):
            return True
        self._deleted = True
        await self._store.delete(self._entries)
        return False

"""`BackgroundRuns` and `RunLog`: runs owned by a lease, their events followed anywhere."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from agent_framework_hosting import (
    BackgroundRuns,
    DiskStateStore,
    Lease,
    MemoryStateStore,
    RunLog,
    StateUnavailable,
)


async def collect(log: RunLog, run_id: str, *, after: int = -1) -> list[str | None]:
    return [entry async for entry in log.follow(run_id, "p", after=after, keepalive=3600)]


async def test_a_complete_log_is_replayed_and_ends() -> None:
    log = RunLog(MemoryStateStore(), "t")
    writer = await log.open("r", "p")
    for entry in ("a", "b", "c"):
        await writer.append(entry)
    await writer.close()
    assert await collect(log, "r") == ["a", "b", "c"]
    assert await collect(log, "r", after=1) == ["c"]


async def test_a_complete_log_expires_after_its_ttl_and_reads_as_missing() -> None:
    store = MemoryStateStore()
    log = RunLog(store, "t", ttl=0.2)
    writer = await log.open("r", "p")
    await writer.append("a")
    await asyncio.sleep(0.3)
    assert await log.entries("r") == ["a"]  # running: kept however long it runs
    await writer.append("b")
    await writer.close()
    assert await collect(log, "r") == ["a", "b"]
    await asyncio.sleep(0.5)
    assert not await log.exists("r", "p")
    assert await log.entries("r") == []
    assert await collect(log, "r") == []
    assert len(store) == 0


async def test_following_a_complete_log_from_past_its_end_ends_at_once() -> None:
    log = RunLog(MemoryStateStore(), "t")
    writer = await log.open("r", "p")
    await writer.append("only")
    await writer.close()
    # A keep-alive would come only after an hour: the follower must not wait for one.
    assert await collect(log, "r", after=0) == []
    assert await collect(log, "r", after=7) == []


async def test_a_follower_gets_entries_as_they_are_appended() -> None:
    log = RunLog(MemoryStateStore(), "t")
    writer = await log.open("r", "p")
    follower = asyncio.ensure_future(collect(log, "r"))
    for entry in ("one", "two"):
        await asyncio.sleep(0.01)
        await writer.append(entry)
    await writer.close()
    assert await asyncio.wait_for(follower, 10) == ["one", "two"]


async def test_another_partition_s_log_reads_as_missing() -> None:
    log = RunLog(MemoryStateStore(), "t")
    writer = await log.open("r", "owner")
    await writer.append("secret")
    assert not await log.exists("r", "p")
    assert await collect(log, "r") == []
    assert not await log.delete("r", "p")
    assert await log.exists("r", "owner")


async def test_deleting_a_log_ends_its_followers_and_its_writer_stops() -> None:
    log = RunLog(MemoryStateStore(), "t")
    writer = await log.open("r", "p")
    follower = asyncio.ensure_future(collect(log, "r"))
    await writer.append("first")
    await asyncio.sleep(0.01)
    assert await log.delete("r", "p")
    assert await asyncio.wait_for(follower, 10) == ["first"]
    for _ in range(writer.check_every + 1):
        await writer.append("after")
    assert writer.deleted
    assert await log.entries("r") == []


async def test_a_cancelled_local_run_ends_and_is_no_longer_running() -> None:
    store = MemoryStateStore()
    started = asyncio.Event()

    async def work() -> None:
        started.set()
        await asyncio.sleep(3600)

    runs = BackgroundRuns(store, "t", settle=_never)
    await runs.start("r", work())
    await started.wait()
    assert runs.is_local("r")
    assert await runs.cancel("r")
    assert not runs.is_local("r")
    assert not await runs.cancel("r")


class DyingStore(DiskStateStore):
    """A process's view of the state that stops writing when the process "dies"."""

    dead = False

    async def renew(self, lease: Lease, *, ttl: float) -> bool:
        return False if self.dead else await super().renew(lease, ttl=ttl)

    async def release(self, lease: Lease) -> None:
        if not self.dead:
            await super().release(lease)

    async def set(self, key: str, value: Any, **options: Any) -> None:
        if not self.dead:
            await super().set(key, value, **options)


async def test_a_run_whose_owner_died_is_settled_once(tmp_path: Path) -> None:
    settled: list[str] = []

    async def settle(run_id: str) -> None:
        settled.append(run_id)

    owner_store = DyingStore(tmp_path)
    owner = BackgroundRuns(owner_store, "t", settle=settle, lease_seconds=0.3)
    await owner.start("r", asyncio.sleep(3600))
    await asyncio.sleep(0)
    owner_store.dead = True  # nothing it does reaches the state any more
    await owner.stop_all()
    alive = BackgroundRuns(DiskStateStore(tmp_path), "t", settle=settle, lease_seconds=0.3)
    assert not await alive.settle_if_orphaned("r")  # its lease has not expired yet
    await asyncio.sleep(0.6)
    assert await alive.settle_if_orphaned("r")
    assert not await alive.settle_if_orphaned("r")
    assert settled == ["r"]


async def test_a_live_owner_s_run_is_never_settled(tmp_path: Path) -> None:
    runs = BackgroundRuns(DiskStateStore(tmp_path), "t", settle=_never, lease_seconds=0.3)
    other = BackgroundRuns(DiskStateStore(tmp_path), "t", settle=_never, lease_seconds=0.3)
    await runs.start("r", asyncio.sleep(3600))
    await asyncio.sleep(0.9)  # three leases long: the owner renews it
    assert not await other.settle_if_orphaned("r")
    await runs.stop_all()


async def test_a_cancel_from_another_process_stops_the_run(tmp_path: Path) -> None:
    stopped = asyncio.Event()

    async def work() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            stopped.set()

    owner = BackgroundRuns(DiskStateStore(tmp_path), "t", settle=_never, lease_seconds=0.6)
    other = BackgroundRuns(DiskStateStore(tmp_path), "t", settle=_never, lease_seconds=0.6)
    await owner.start("r", work())
    assert await other.cancel("r")
    await asyncio.wait_for(stopped.wait(), 10)
    assert not owner.is_local("r")


async def _never(run_id: str) -> None:
    raise AssertionError(f"{run_id} must not be settled")


def test_a_second_run_of_one_id_is_refused() -> None:
    async def scenario() -> None:
        runs = BackgroundRuns(MemoryStateStore(), "t", settle=_never)
        await runs.start("r", asyncio.sleep(3600))
        with pytest.raises(RuntimeError, match="already has an owner"):
            await runs.start("r", asyncio.sleep(0))
        await runs.stop_all()

    asyncio.run(scenario())


class UnreachableStore(MemoryStateStore):
    """A store that cannot be reached when a run is to be claimed."""

    async def acquire(
        self, key: str, *, ttl: float, wait: float = 0.0, read: str | None = None
    ) -> Lease | None:
        raise StateUnavailable("the store is down")


@pytest.mark.parametrize("kind", [MemoryStateStore, UnreachableStore])
def test_a_run_that_cannot_begin_still_ends_with_on_end(kind: type[MemoryStateStore]) -> None:
    ended: list[str] = []

    async def on_end() -> None:
        ended.append("ended")

    async def scenario() -> None:
        runs = BackgroundRuns(kind(), "t", settle=_never)
        if kind is MemoryStateStore:
            await runs.start("r", asyncio.sleep(3600))  # the id is taken
        with pytest.raises(RuntimeError):  # already owned, or StateUnavailable
            await runs.start("r", asyncio.sleep(0), on_end=on_end)
        await runs.stop_all()

    asyncio.run(scenario())
    assert ended == ["ended"]

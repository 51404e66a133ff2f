"""A behavioural test suite every state backend runs against itself.

Subclass :class:`StateStoreConformanceTests` and implement :meth:`open_store` — or, for a
backend whose state other processes share, :class:`SharedStateStoreConformanceTests` and
its :meth:`open_peer` too — and pytest collects the inherited tests. The host relies on
every behaviour checked here and on nothing else.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from .._state import Lease, LeaseLost, StateStore, update_state

__all__ = ["SharedStateStoreConformanceTests", "StateStoreConformanceTests"]


class StateStoreConformanceTests:
    """The contract of :class:`StateStore`; subclass it and open a store per test."""

    async def open_store(self) -> StateStore:
        """A new, empty store for one test."""
        raise NotImplementedError

    @pytest.fixture
    async def store(self) -> AsyncIterator[StateStore]:
        """The store under test, closed after the test."""
        store = await self.open_store()
        try:
            yield store
        finally:
            await store.close()

    # Values

    async def test_a_missing_key_reads_none(self, store: StateStore) -> None:
        assert await store.get("missing") is None
        assert await store.read("missing") is None

    async def test_a_value_reads_back_equal(self, store: StateStore) -> None:
        value = {"text": "héllo", "n": [1, 2.5, None, True], "nested": {"a": {"b": "c"}}}
        await store.set("k", value)
        assert await store.get("k") == value

    async def test_changing_a_value_after_storing_it_changes_nothing_stored(
        self, store: StateStore
    ) -> None:
        value: dict[str, Any] = {"items": [1]}
        await store.set("k", value)
        value["items"].append(2)
        read: dict[str, list[int]] = await store.get("k") or {}
        assert read == {"items": [1]}
        read["items"].append(3)
        assert await store.get("k") == {"items": [1]}

    async def test_set_replaces_and_delete_removes(self, store: StateStore) -> None:
        await store.set("k", "one")
        await store.set("k", "two")
        assert await store.get("k") == "two"
        await store.delete("k", "never-there")
        assert await store.get("k") is None

    async def test_set_many_stores_every_value(self, store: StateStore) -> None:
        await store.set_many({"a": 1, "b": [2], "c": {"d": 3}})
        assert [await store.get(key) for key in "abc"] == [1, [2], {"d": 3}]

    async def test_a_value_expires_after_its_ttl(self, store: StateStore) -> None:
        await store.set("short", "gone soon", ttl=0.2)
        await store.set("long", "kept")
        assert await store.get("short") == "gone soon"
        await asyncio.sleep(0.5)
        assert await store.get("short") is None
        assert await store.get("long") == "kept"

    async def test_a_value_and_a_log_expire_when_told(self, store: StateStore) -> None:
        await store.set("value", "gone soon")
        for entry in ("a", "b", "c"):
            await store.append("log", entry)
        await store.set("kept", "kept")
        await store.expire("value", 0.2)
        await store.expire("log", 0.2)
        await store.expire("never-there", 0.2)
        assert await store.get("value") == "gone soon"
        assert await store.read_log("log") == ["a", "b", "c"]
        await asyncio.sleep(0.5)
        assert await store.get("value") is None
        assert await store.read_log("log") == []
        assert await store.get("never-there") is None
        assert await store.get("kept") == "kept"

    # Versioned writes

    async def test_each_write_moves_the_version_up(self, store: StateStore) -> None:
        await store.set("k", "a")
        first = await store.read("k")
        await store.set("k", "b")
        second = await store.read("k")
        assert first is not None
        assert second is not None
        assert second.version > first.version
        assert second.value == "b"

    async def test_a_conditional_write_needs_the_version_it_names(self, store: StateStore) -> None:
        created = await store.write("k", "first", version=None)
        assert created is not None
        assert await store.write("k", "again", version=None) is None
        assert await store.write("k", "stale", version=created + 7) is None
        assert await store.get("k") == "first"
        moved = await store.write("k", "second", version=created)
        assert moved is not None
        assert moved > created
        assert await store.get("k") == "second"

    async def test_a_deleted_key_can_be_created_again(self, store: StateStore) -> None:
        await store.write("k", 1, version=None)
        await store.delete("k")
        assert await store.write("k", 2, version=None) is not None

    async def test_concurrent_updates_lose_nothing(self, store: StateStore) -> None:
        async def add_one() -> None:
            for _ in range(5):
                await update_state(store, "counter", lambda value: (value or 0) + 1)

        await asyncio.gather(*(add_one() for _ in range(10)))
        assert await store.get("counter") == 50

    # Logs

    async def test_appends_are_numbered_and_read_in_order(self, store: StateStore) -> None:
        indexes = [await store.append("log", f"e{i}") for i in range(5)]
        assert indexes == [0, 1, 2, 3, 4]
        assert await store.read_log("log") == ["e0", "e1", "e2", "e3", "e4"]
        assert await store.read_log("log", after=2) == ["e3", "e4"]
        assert await store.read_log("log", after=4) == []

    async def test_a_missing_log_reads_empty(self, store: StateStore) -> None:
        assert await store.read_log("nothing") == []
        assert await store.read_log("nothing", wait=0.05) == []

    async def test_a_waiting_reader_gets_the_next_append(self, store: StateStore) -> None:
        await store.append("log", "first")
        reader = asyncio.ensure_future(store.read_log("log", after=0, wait=10))
        await asyncio.sleep(0.05)
        assert not reader.done()
        await store.append("log", "second")
        assert await asyncio.wait_for(reader, 5) == ["second"]

    async def test_a_deleted_log_reads_empty_and_wakes_its_readers(self, store: StateStore) -> None:
        await store.append("log", "first")
        reader = asyncio.ensure_future(store.read_log("log", after=0, wait=10))
        await asyncio.sleep(0.05)
        await store.delete("log")
        assert await asyncio.wait_for(reader, 5) == []
        assert await store.read_log("log") == []
        assert await store.append("log", "anew") == 0

    # Leases

    async def test_a_lease_excludes_other_owners_until_released(self, store: StateStore) -> None:
        lease = await store.acquire("conv", ttl=30)
        assert lease is not None
        assert await store.acquire("conv", ttl=30) is None
        await store.release(lease)
        again = await store.acquire("conv", ttl=30)
        assert again is not None
        assert again.token > lease.token

    async def test_leases_of_different_keys_are_independent(self, store: StateStore) -> None:
        assert await store.acquire("one", ttl=30) is not None
        assert await store.acquire("two", ttl=30) is not None

    async def test_a_waiting_owner_gets_the_lease_when_it_is_released(
        self, store: StateStore
    ) -> None:
        lease = await store.acquire("conv", ttl=30)
        assert lease is not None
        waiter = asyncio.ensure_future(store.acquire("conv", ttl=30, wait=10))
        await asyncio.sleep(0.05)
        assert not waiter.done()
        await store.release(lease)
        taken = await asyncio.wait_for(waiter, 5)
        assert taken is not None
        assert taken.token > lease.token

    async def test_an_expired_lease_can_be_taken_and_its_owner_knows(
        self, store: StateStore
    ) -> None:
        lease = await store.acquire("conv", ttl=0.2)
        assert lease is not None
        taken = await store.acquire("conv", ttl=30, wait=5)
        assert taken is not None
        assert taken.token > lease.token
        assert not await store.renew(lease, ttl=30)
        await store.release(lease)  # the old owner's release leaves the new owner's lease
        assert await store.acquire("conv", ttl=30) is None

    async def test_renewing_keeps_a_lease(self, store: StateStore) -> None:
        lease = await store.acquire("conv", ttl=0.3)
        assert lease is not None
        for _ in range(4):
            await asyncio.sleep(0.1)
            assert await store.renew(lease, ttl=0.3)
        assert await store.acquire("conv", ttl=30) is None

    async def test_a_write_fenced_by_a_lost_lease_writes_nothing(self, store: StateStore) -> None:
        lease = await store.acquire("conv", ttl=30)
        assert lease is not None
        await store.set("snapshot", "mine", fence=lease)
        await store.release(lease)
        other = await store.acquire("conv", ttl=30)
        assert other is not None
        with pytest.raises(LeaseLost):
            await store.set("snapshot", "stale", fence=lease)
        with pytest.raises(LeaseLost):
            await store.set_many({"snapshot": "stale", "other": 1}, fence=lease)
        current = await store.read("snapshot")
        assert current is not None
        with pytest.raises(LeaseLost):
            await store.write("snapshot", "stale", version=current.version, fence=lease)
        assert await store.get("snapshot") == "mine"
        assert await store.get("other") is None

    async def test_a_lease_can_bring_a_value_read_under_it(self, store: StateStore) -> None:
        await store.set("state", {"n": 1})
        lease = await store.acquire("conv", ttl=30, read="state")
        assert lease is not None
        assert lease.read is not None
        assert lease.read.value == {"n": 1}
        await store.release(lease)
        empty = await store.acquire("conv", ttl=30, read="nothing-here")
        assert empty is not None
        assert empty.read is None

    async def test_a_write_can_release_its_fence(self, store: StateStore) -> None:
        lease = await store.acquire("conv", ttl=30, read="state")
        assert lease is not None
        version = await store.write("state", "done", version=None, fence=lease, release=True)
        assert version is not None
        assert await store.get("state") == "done"
        again = await store.acquire("conv", ttl=30)
        assert again is not None
        # A write that loses the race still gives its lease up.
        stale = await store.write("state", "late", version=None, fence=again, release=True)
        assert stale is None
        assert await store.acquire("conv", ttl=30) is not None

    async def test_serialized_owners_never_overlap(self, store: StateStore) -> None:
        inside: list[int] = []
        overlaps: list[int] = []

        async def turn(number: int) -> None:
            lease = await store.acquire("conv", ttl=30, wait=30)
            assert isinstance(lease, Lease)
            if inside:
                overlaps.append(number)
            inside.append(number)
            await asyncio.sleep(0.001)
            inside.remove(number)
            await store.release(lease)

        await asyncio.gather(*(turn(number) for number in range(20)))
        assert overlaps == []

    # Notifications

    async def test_a_notification_wakes_its_waiters(self, store: StateStore) -> None:
        waiters = [asyncio.ensure_future(store.wait("topic", seconds=10)) for _ in range(3)]
        await asyncio.sleep(0.05)
        await store.notify("topic")
        assert await asyncio.wait_for(asyncio.gather(*waiters), 5) == [True, True, True]

    async def test_a_wait_without_a_notification_times_out(self, store: StateStore) -> None:
        other = asyncio.ensure_future(store.wait("other", seconds=10))
        assert await store.wait("topic", seconds=0.05) is False
        other.cancel()


class SharedStateStoreConformanceTests(StateStoreConformanceTests):
    """The contract, and what a second process sharing the state sees of it."""

    async def open_peer(self, store: StateStore) -> StateStore:
        """Another handle on ``store``'s state, as a second process would open it."""
        raise NotImplementedError

    @pytest.fixture
    async def peer(self, store: StateStore) -> AsyncIterator[StateStore]:
        """A second handle on the store's state."""
        peer = await self.open_peer(store)
        try:
            yield peer
        finally:
            await peer.close()

    async def test_the_store_says_it_is_shared(self, store: StateStore) -> None:
        assert store.shared

    async def test_a_peer_sees_values_and_versions(
        self, store: StateStore, peer: StateStore
    ) -> None:
        await store.set("k", {"v": 1})
        assert await peer.get("k") == {"v": 1}
        current = await peer.read("k")
        assert current is not None
        assert await store.write("k", {"v": 2}, version=current.version) is not None
        assert await peer.write("k", {"v": 3}, version=current.version) is None
        assert await peer.get("k") == {"v": 2}

    async def test_a_lease_excludes_a_peer(self, store: StateStore, peer: StateStore) -> None:
        lease = await store.acquire("conv", ttl=30)
        assert lease is not None
        assert await peer.acquire("conv", ttl=30) is None
        waiter = asyncio.ensure_future(peer.acquire("conv", ttl=30, wait=10))
        await asyncio.sleep(0.05)
        await store.release(lease)
        taken = await asyncio.wait_for(waiter, 5)
        assert taken is not None
        assert taken.token > lease.token

    async def test_a_peer_follows_a_log(self, store: StateStore, peer: StateStore) -> None:
        reader = asyncio.ensure_future(peer.read_log("log", wait=10))
        await asyncio.sleep(0.05)
        await store.append("log", "written here")
        assert await asyncio.wait_for(reader, 5) == ["written here"]

    async def test_a_notification_reaches_a_peer(self, store: StateStore, peer: StateStore) -> None:
        waiter = asyncio.ensure_future(peer.wait("topic", seconds=10))
        await asyncio.sleep(0.05)
        await store.notify("topic")
        assert await asyncio.wait_for(waiter, 5) is True

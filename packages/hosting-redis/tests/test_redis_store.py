"""The Redis store held to the core's state store contract, with a second process's view."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from agent_framework_hosting import StateStore, StateUnavailable
from agent_framework_hosting.testing import SharedStateStoreConformanceTests
from agent_framework_hosting_redis import RedisStateStore


class TestRedisStateStore(SharedStateStoreConformanceTests):
    @pytest.fixture(autouse=True)
    async def _redis(self, redis_url: str, prefix: str) -> AsyncIterator[None]:
        self.url, self.prefix = redis_url, prefix
        yield
        cleaner = RedisStateStore.from_url(redis_url, prefix=prefix)
        await cleaner.clear()
        await cleaner.close()

    async def open_store(self) -> StateStore:
        return RedisStateStore.from_url(self.url, prefix=self.prefix)

    async def open_peer(self, store: StateStore) -> StateStore:
        return RedisStateStore.from_url(self.url, prefix=self.prefix)


async def test_stores_under_different_prefixes_do_not_meet(redis_url: str, prefix: str) -> None:
    one = RedisStateStore.from_url(redis_url, prefix=prefix + "one:")
    two = RedisStateStore.from_url(redis_url, prefix=prefix + "two:")
    try:
        await one.set("k", "mine")
        assert await two.get("k") is None
        assert await two.acquire("k", ttl=30) is not None
        assert await one.acquire("k", ttl=30) is not None
    finally:
        for store in (one, two):
            await store.clear()
            await store.close()


async def test_an_unreachable_redis_is_state_unavailable() -> None:
    store = RedisStateStore.from_url("redis://127.0.0.1:1/0", socket_timeout=1)
    try:
        with pytest.raises(StateUnavailable, match="cannot be reached"):
            await store.get("k")
        with pytest.raises(StateUnavailable):
            await store.set("k", 1)
    finally:
        await store.close()

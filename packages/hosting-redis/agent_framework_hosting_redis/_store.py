"""`RedisStateStore`: the host's state in Redis, shared by every replica that uses it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Mapping
from typing import Any, TypeVar, cast

from agent_framework_hosting import Lease, LeaseLost, StateUnavailable, Versioned, encode_json
from agent_framework_hosting import decode_json as _decode
from redis import exceptions as redis_errors
from redis.asyncio import Redis

from . import _scripts

__all__ = ["RedisStateStore"]

logger = logging.getLogger("agent_framework.hosting.redis")

T = TypeVar("T")

_NO_DEPTH_LIMIT = 1 << 30
"""Values the host stored itself are decoded without the request depth limit."""


class RedisStateStore:
    """Keeps the host's state in Redis, so that any number of replicas share it.

    Every key is prefixed with ``prefix``: several hosts (or environments) can share one
    Redis, each under its own prefix, and a database number picks another keyspace
    (``redis://host:6379/2``). Each operation is one round trip (a Lua script where it
    reads and writes). Notifications (a log grew, a lease was released, a run was asked
    to stop) travel on one pub/sub channel per prefix, read by one connection per
    store. Values are stored as JSON.

    Redis keeps what it holds across host restarts; configure its own persistence
    (append-only file) for it to survive a restart of Redis itself (see
    ``docs/deployment.md``). When Redis cannot be reached, calls raise
    :class:`StateUnavailable`, which the host answers ``503``.

    Args:
        client: A ``redis.asyncio.Redis`` client; it is closed with the store.
        prefix: Prefix of every key and of the notification channel.

    """

    durable = True
    shared = True

    def __init__(self, client: Redis, *, prefix: str = "agent-framework-hosting:") -> None:
        # redis-py's annotations are partly untyped: the store is typed at its own surface.
        self._redis: Any = client
        self._prefix = prefix
        self._channel = f"{prefix}notify"
        self._scripts = {
            name: client.register_script(getattr(_scripts, name))
            for name in ("ACQUIRE", "APPEND", "DELETE", "RELEASE", "RENEW", "SET_MANY", "WRITE")
        }
        self._waiters: dict[str, set[asyncio.Future[None]]] = {}
        self._listener: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str = "agent-framework-hosting:",
        socket_timeout: float = 5.0,
        **options: Any,
    ) -> RedisStateStore:
        """A store on the Redis at ``url`` (``redis://host:port/db``, ``rediss://`` for TLS).

        ``socket_timeout`` bounds every call, so that a Redis that stops answering is
        ``StateUnavailable`` rather than a request that hangs; ``options`` go to
        ``redis.asyncio.Redis.from_url``.
        """
        client = cast("Any", Redis).from_url(
            url,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_timeout,
            health_check_interval=30,
            **options,
        )
        return cls(client, prefix=prefix)

    @property
    def prefix(self) -> str:
        """The prefix of every key this store writes."""
        return self._prefix

    async def get(self, key: str) -> Any | None:
        """The value under ``key``, or ``None``."""
        raw: bytes | None = await self._call(self._redis.hget(self._key(key), "d"))
        return None if raw is None else _loads(raw)

    async def read(self, key: str) -> Versioned | None:
        """The value under ``key`` with its version."""
        parts = await self._call(self._redis.hmget(self._key(key), ["v", "d"]))
        return _versioned(cast("list[Any]", parts))

    async def set(
        self, key: str, value: Any, *, ttl: float | None = None, fence: Lease | None = None
    ) -> None:
        """Store ``value`` under ``key``."""
        await self.set_many({key: value}, ttl=ttl, fence=fence)

    async def set_many(
        self,
        values: Mapping[str, Any],
        *,
        ttl: float | None = None,
        fence: Lease | None = None,
    ) -> None:
        """Store several values in one atomic script."""
        if not values:
            return
        keys = [self._key(key) for key in values]
        data = [encode_json(value) for value in values.values()]
        await self._run("SET_MANY", keys, [*self._fence(fence), _ms(ttl), *data])

    async def write(
        self,
        key: str,
        value: Any,
        *,
        version: int | None,
        ttl: float | None = None,
        fence: Lease | None = None,
        release: bool = False,
    ) -> int | None:
        """Store ``value`` if ``key`` is still at ``version``; the new version.

        With ``release`` the fence is given up in the same script.
        """
        expected = "" if version is None else str(version)
        arguments: list[Any] = [*self._fence(fence), _ms(ttl), expected, encode_json(value)]
        if release and fence is not None:
            arguments.extend(["1", self._channel, _lease_topic(fence.key)])
        written = await self._run("WRITE", [self._key(key)], arguments)
        return None if written is None else int(written)

    async def delete(self, *keys: str) -> None:
        """Remove ``keys`` (values and logs); readers waiting on a removed log wake up."""
        if keys:
            topics = [_log_topic(key) for key in keys]
            await self._run("DELETE", [self._key(key) for key in keys], [self._channel, *topics])

    async def expire(self, key: str, ttl: float) -> None:
        """Make ``key`` (a value's hash or a log's stream) expire ``ttl`` seconds from now."""
        await self._call(self._redis.pexpire(self._key(key), _ms(ttl)))

    async def append(self, key: str, entry: str, *, ttl: float | None = None) -> int:
        """Append ``entry`` to the log under ``key``; its index."""
        arguments = [entry, _ms(ttl), self._channel, _log_topic(key)]
        return int(await self._run("APPEND", [self._key(key)], arguments))

    async def read_log(self, key: str, *, after: int = -1, wait: float = 0.0) -> list[str]:
        """The log's entries after ``after``, waiting up to ``wait`` for one."""
        entries = await self._entries(key, after)
        if entries or wait <= 0:
            return entries
        async with self._waiting(_log_topic(key)) as appended:
            entries = await self._entries(key, after)  # appended since the first look?
            if entries:
                return entries
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await appended
        return await self._entries(key, after)

    async def acquire(
        self, key: str, *, ttl: float, wait: float = 0.0, read: str | None = None
    ) -> Lease | None:
        """Take the lease of ``key``, waiting up to ``wait`` for its release or expiry.

        ``read`` is read in the same script, once the lease is taken.
        """
        deadline = time.monotonic() + wait
        keys = [self._lease(key), f"{self._prefix}lease-tokens"]
        if read is not None:
            keys.append(self._key(read))
        while True:
            async with self._waiting(_lease_topic(key)) as released:
                answer = cast("list[Any]", await self._run("ACQUIRE", keys, [_ms(ttl)]))
                first = int(answer[0])
                if first > 0:
                    return Lease(key, first, read=_versioned(answer[1:]))
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                # Until its release is published, or its holder's time runs out.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(min(remaining, -first / 1000)):
                        await released

    async def renew(self, lease: Lease, *, ttl: float) -> bool:
        """Extend ``lease``; ``False`` when it expired or changed hands."""
        return bool(await self._run("RENEW", [self._lease(lease.key)], [lease.token, _ms(ttl)]))

    async def release(self, lease: Lease) -> None:
        """Give ``lease`` up; processes waiting for it are told."""
        arguments = [lease.token, self._channel, _lease_topic(lease.key)]
        await self._run("RELEASE", [self._lease(lease.key)], arguments)

    async def notify(self, topic: str) -> None:
        """Wake every waiter on ``topic``, in every process."""
        await self._call(self._redis.publish(self._channel, topic))

    async def wait(self, topic: str, *, seconds: float) -> bool:
        """Wait up to ``seconds`` for a notification on ``topic``."""
        async with self._waiting(topic) as notified:
            try:
                async with asyncio.timeout(seconds):
                    await notified
            except TimeoutError:
                return False
        return True

    async def close(self) -> None:
        """Stop listening and close the client."""
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
            self._listener = None
        await self._redis.aclose()

    async def clear(self) -> int:
        """Remove every key under the prefix (for tests and tear-downs); how many."""
        removed = 0
        async for key in self._redis.scan_iter(match=f"{self._prefix}*", count=500):
            removed += int(await self._redis.delete(cast("bytes", key)))
        return removed

    def _key(self, key: str) -> str:
        return f"{self._prefix}k:{key}"

    def _lease(self, key: str) -> str:
        return f"{self._prefix}lease:{key}"

    def _fence(self, fence: Lease | None) -> list[str | int]:
        return ["", ""] if fence is None else [self._lease(fence.key), fence.token]

    async def _entries(self, key: str, after: int) -> list[str]:
        start = "-" if after < 0 else f"(0-{after + 1}"
        rows = await self._call(self._redis.xrange(self._key(key), min=start))
        return [cast("bytes", fields[b"e"]).decode() for _id, fields in cast("list[Any]", rows)]

    async def _run(self, name: str, keys: list[str], arguments: list[Any]) -> Any:
        try:
            return await self._call(self._scripts[name](keys=keys, args=arguments))
        except redis_errors.ResponseError as error:
            if "LEASE_LOST" in str(error):
                raise LeaseLost(f"The lease of {keys[0]!r} was lost") from None
            raise

    @staticmethod
    async def _call(operation: Awaitable[T]) -> T:
        try:
            return await operation
        except (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError) as error:
            raise StateUnavailable(f"Redis cannot be reached: {error}") from error

    @contextlib.asynccontextmanager
    async def _waiting(self, topic: str) -> AsyncGenerator[asyncio.Future[None]]:
        """Interest in ``topic``, registered before the caller looks at the state."""
        future = await self._register(topic)
        try:
            yield future
        finally:
            self._unregister(topic, future)

    async def _register(self, topic: str) -> asyncio.Future[None]:
        await self._listen()
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(topic, set()).add(future)
        return future

    def _unregister(self, topic: str, future: asyncio.Future[None]) -> None:
        waiters = self._waiters.get(topic)
        if waiters is not None:
            waiters.discard(future)
            if not waiters:
                del self._waiters[topic]

    async def _listen(self) -> None:
        """Start the one subscription of this store (once), and wait until it is live."""
        if self._listener is None or self._listener.done():
            self._listening.clear()
            self._listener = asyncio.create_task(self._dispatch(), name="redis-notifications")
        waiting = asyncio.ensure_future(self._listening.wait())
        done, _ = await asyncio.wait({waiting, self._listener}, return_when="FIRST_COMPLETED")
        if waiting not in done:
            waiting.cancel()
            raise StateUnavailable("Redis cannot be reached: the subscription ended")

    async def _dispatch(self) -> None:
        """Read the notification channel and wake the waiters of each topic."""
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self._channel)
            self._listening.set()
            while True:
                message = await pubsub.get_message(timeout=None)
                if message is None:
                    continue
                topic = cast("bytes", cast("dict[str, Any]", message)["data"]).decode()
                for future in self._waiters.pop(topic, ()):
                    if not future.done():
                        future.set_result(None)
        except (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError) as error:
            logger.warning("Redis notifications stopped: %s", error)
            # Every waiter looks again now rather than at its timeout.
            for waiters in self._waiters.values():
                for future in waiters:
                    if not future.done():
                        future.set_result(None)
            self._waiters.clear()
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()


def _versioned(parts: list[Any]) -> Versioned | None:
    """The value a script read: ``[version, JSON]`` (each ``None`` when there is none)."""
    if len(parts) < 2 or parts[1] is None:
        return None
    return Versioned(_loads(cast("bytes", parts[1])), int(cast("bytes", parts[0])))


def _loads(raw: bytes) -> Any:
    return _decode(raw, max_depth=_NO_DEPTH_LIMIT)


def _ms(seconds: float | None) -> str:
    return "" if seconds is None else str(max(1, round(seconds * 1000)))


def _log_topic(key: str) -> str:
    return f"log:{key}"


def _lease_topic(key: str) -> str:
    return f"lease:{key}"

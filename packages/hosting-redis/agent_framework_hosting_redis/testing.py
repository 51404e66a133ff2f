"""Test support: the Redis a test suite uses, and Redis servers of a test's own.

``redis_url_for_tests()`` answers the machine's Redis (``REDIS_URL``, default
``redis://127.0.0.1:6379/0``), skipping the test when there is none (failing it under
``CI=true``, where one must be). ``OwnRedis`` runs a ``redis-server`` of the test's own
on a Unix socket, with its persistence on, to stop and restart it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, cast
from urllib.parse import urlparse

import pytest
from agent_framework_hosting import StateStore

from ._store import RedisStateStore

__all__ = ["OnRedis", "OwnRedis", "redis_url_for_tests"]


def redis_url_for_tests() -> str:
    """The machine's Redis for tests; skips (fails under ``CI=true``) when unreachable."""
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    address = urlparse(url)
    try:
        with socket.create_connection((address.hostname or "127.0.0.1", address.port or 6379), 1):
            return url
    except OSError:
        message = f"no Redis at {url}: start redis-server, or set REDIS_URL"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


class OnRedis:
    """Mix into a channel's conformance tests to hold the channel to the kit on Redis.

    ``class TestMyChannelOnRedis(OnRedis, TestMyChannel): ...``: each test's host keeps its
    state in the tests' Redis under a prefix of its own, removed after the test.
    """

    redis_url: str
    redis_prefix: str

    @pytest.fixture(autouse=True)
    def _redis_prefix(self) -> Iterator[None]:
        self.redis_url = redis_url_for_tests()
        self.redis_prefix = f"afh-kit-{secrets.token_hex(6)}:"
        yield
        import redis

        client: Any = cast("Any", redis.Redis).from_url(self.redis_url)
        for key in client.scan_iter(match=f"{self.redis_prefix}*", count=500):
            client.delete(key)
        client.close()

    def open_state_store(self) -> StateStore | None:
        """The tests' Redis, under this test's prefix."""
        return RedisStateStore.from_url(self.redis_url, prefix=self.redis_prefix)


class OwnRedis:
    """A ``redis-server`` of the test's own, on a Unix socket in ``directory``.

    Its append-only file is on, so what it held survives :meth:`stop` and :meth:`start`.
    """

    def __init__(self, directory: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            message = "redis-server is not installed (Debian: apt-get install redis-server)"
            if os.environ.get("CI"):
                pytest.fail(message)
            pytest.skip(message)
        self._binary = binary
        self.directory = directory
        self.socket = directory / "redis.sock"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``unix://`` URL of the server."""
        return f"unix://{self.socket}"

    def start(self) -> OwnRedis:
        """Start the server and wait until it answers."""
        self._process = subprocess.Popen(
            [
                self._binary,
                "--port", "0",
                "--unixsocket", str(self.socket),
                "--dir", str(self.directory),
                "--appendonly", "yes",
                "--appendfsync", "always",
                "--save", "",
            ],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.socket(socket.AF_UNIX) as probe:
                    probe.connect(str(self.socket))
                    probe.sendall(b"PING\r\n")
                    if probe.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        """Stop the server (what it acknowledged is in its append-only file)."""
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None

    def __enter__(self) -> OwnRedis:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

"""Hosts in processes of their own: started on a port they pick, killed without warning.

For tests about what happens across processes: a restart, a ``kill -9``, replicas
sharing one state store, an ASGI server running several workers.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Generator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

__all__ = ["HostProcess", "asgi_workers", "host_process"]

_URL = re.compile(r"http://127\.0\.0\.1:\d+")


class HostProcess:
    """A running server process and its base URL."""

    def __init__(self, process: subprocess.Popen[str], url: str) -> None:
        self.process = process
        self.url = url

    def kill(self) -> None:
        """SIGKILL: no shutdown, nothing flushed."""
        self.process.kill()
        self.process.wait(timeout=10)


@contextmanager
def host_process(
    script: Path, env: dict[str, str] | None = None, *, deadline: float = 30.0
) -> Generator[HostProcess]:
    """``python script 0``: a host serving on a port it picks (``serve(port=0)``).

    The URL is read from what ``serve()`` prints once the app has started; the process
    is killed (SIGKILL) when the block ends, if it still runs.
    """
    process = subprocess.Popen(
        [sys.executable, str(script), "0"],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        yield HostProcess(process, _announced_url(process, deadline))
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


@contextmanager
def asgi_workers(
    command: Callable[[int], Sequence[str]],
    env: dict[str, str] | None = None,
    *,
    cwd: Path | None = None,
    deadline: float = 60.0,
) -> Generator[str]:
    """An ASGI server with several workers on a socket bound here and handed over.

    ``command`` gets the socket's descriptor number, for the server's own option
    (``--bind fd://N``, ``--fd N``): no other process can take the port in between.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    process = subprocess.Popen(
        [*command(listener.fileno())],
        env={**os.environ, **(env or {})},
        cwd=cwd,
        pass_fds=(listener.fileno(),),
    )
    try:
        _wait_ready(url, process, deadline)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        listener.close()


def _announced_url(process: subprocess.Popen[str], deadline: float) -> str:
    """The URL the server prints once started; it fails if none comes by ``deadline``."""
    found: list[str] = []
    done = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            match = _URL.search(line)
            if match and not found:
                found.append(match.group(0))
                done.set()
        done.set()

    threading.Thread(target=read, daemon=True).start()
    if not done.wait(deadline) or not found:
        raise RuntimeError(f"the server did not start (exit code {process.poll()})")
    return found[0]


def _wait_ready(url: str, process: subprocess.Popen[bytes], deadline: float) -> None:
    give_up = time.monotonic() + deadline
    while time.monotonic() < give_up:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/readiness", timeout=2).text == "ok":
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not become ready in time")

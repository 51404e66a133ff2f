"""Durable state survives a real process kill (SIGKILL) and restart."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Generator
from contextlib import contextmanager
from pathlib import Path

import httpx

SERVER = Path(__file__).resolve().parent / "serve_echo.py"


@contextmanager
def echo_server(state_dir: Path) -> Generator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([sys.executable, str(SERVER), str(port), str(state_dir)])
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{url}/readiness", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield url
    finally:
        proc.kill()  # SIGKILL: no shutdown, no flush
        proc.wait(timeout=10)


def say(url: str, text: str, key: str) -> str:
    return httpx.post(f"{url}/echo", json={"text": text, "key": key}).json()["text"]


def test_sessions_and_reset_aliases_survive_kill_and_restart(tmp_path: Path) -> None:
    with echo_server(tmp_path) as url:
        say(url, "one", "kept")
        assert say(url, "two", "kept") == "Echo: two (turn 2)"
        say(url, "old", "reset")
        say(url, "older", "reset")
        httpx.post(f"{url}/echo/command", json={"name": "reset", "key": "reset"})
        assert say(url, "fresh", "reset") == "Echo: fresh (turn 1)"
    with echo_server(tmp_path) as url:
        assert say(url, "three", "kept") == "Echo: three (turn 3)"
        assert say(url, "after", "reset") == "Echo: after (turn 2)"

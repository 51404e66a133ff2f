"""Durable state survives a real process kill (SIGKILL) and restart.

Each server is a separate Python process (``serve_echo.py``) serving the echo channel with
``state_dir``; it is killed without any chance to shut down or flush.
"""

from __future__ import annotations

from collections.abc import Generator
from contextlib import contextmanager
from pathlib import Path

import httpx
from agent_framework_hosting.testing import host_process

SERVER = Path(__file__).resolve().parent / "serve_echo.py"


@contextmanager
def echo_server(state_dir: Path) -> Generator[str]:
    """Run the echo host in a child process, on a port it picks; SIGKILL it on exit."""
    with host_process(SERVER, {"STATE_DIR": str(state_dir)}) as server:
        yield server.url  # then SIGKILLed: no shutdown, no flush


def say(url: str, text: str, key: str) -> str:
    response = httpx.post(f"{url}/echo", json={"text": text, "key": key})
    response.raise_for_status()
    return response.json()["text"]


def test_a_conversation_continues_after_kill_and_restart(tmp_path: Path) -> None:
    with echo_server(tmp_path) as url:
        say(url, "one", "k")
        assert say(url, "two", "k") == "Echo: two (turn 2)"
    with echo_server(tmp_path) as url:
        assert say(url, "three", "k") == "Echo: three (turn 3)"


def test_a_reset_before_the_kill_holds_after_restart(tmp_path: Path) -> None:
    with echo_server(tmp_path) as url:
        say(url, "one", "k")
        say(url, "two", "k")
        reset = httpx.post(f"{url}/echo/command", json={"name": "reset", "key": "k"})
        assert reset.json() == {"replies": ["Started a new conversation."]}
    with echo_server(tmp_path) as url:
        assert say(url, "fresh", "k") == "Echo: fresh (turn 1)"


def test_a_turn_after_the_reset_continues_the_new_conversation_after_restart(
    tmp_path: Path,
) -> None:
    with echo_server(tmp_path) as url:
        say(url, "old", "k")
        httpx.post(f"{url}/echo/command", json={"name": "reset", "key": "k"})
        assert say(url, "new", "k") == "Echo: new (turn 1)"
    with echo_server(tmp_path) as url:
        assert say(url, "newer", "k") == "Echo: newer (turn 2)"

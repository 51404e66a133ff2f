"""Runs across server processes sharing a state_dir: cancelled from another, settled if killed.

A process killed with SIGKILL leaves its run without an owner; whoever follows the run
after its lease ran out ends its log with ``RUN_ERROR`` ``interrupted``, once.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Generator
from contextlib import contextmanager
from pathlib import Path

import httpx

from ._agui import parse_sse, run_input, user_message

SERVE = Path(__file__).resolve().parent / "serve_ag_ui.py"
WORDS = " ".join(f"w{n}" for n in range(60))
SLOW = {"DELAY": "0.2", "CHUNKS": "60", "LEASE": "1"}
"""A reply takes 12 s; a run's lease is 1 s."""


@contextmanager
def host_process(state_dir: Path) -> Generator[tuple[subprocess.Popen[str], str]]:
    env = {**os.environ, **SLOW, "STATE_DIR": str(state_dir)}
    process = subprocess.Popen(
        [sys.executable, str(SERVE)], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        url = ""
        for line in process.stdout:
            found = re.search(r"http://127\.0\.0\.1:\d+", line)
            if found:
                url = found.group(0)
                break
        assert url, "the server printed no URL"
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def start_slow_run(url: str, run_id: str) -> int:
    """Start a slow run and leave it after its first text: the id of the last event read."""
    body = run_input("t", user_message(WORDS), runId=run_id)
    received = ""
    with httpx.stream("POST", f"{url}/ag-ui", json=body, timeout=30) as response:
        for chunk in response.iter_text():
            received += chunk
            if "TEXT_MESSAGE_CONTENT" in received and received.endswith("\n\n"):
                break
    _, ids = parse_sse(received)
    return ids[-1]


def follow(url: str, run_id: str, after: int) -> str:
    headers = {"Last-Event-ID": str(after)}
    with httpx.stream("GET", f"{url}/ag-ui/runs/{run_id}", headers=headers, timeout=60) as response:
        return "".join(response.iter_text())


def test_a_run_killed_with_its_process_ends_interrupted_for_its_next_follower(
    tmp_path: Path,
) -> None:
    with host_process(tmp_path) as (first, url):
        last = start_slow_run(url, "run-1")
        first.kill()
    with host_process(tmp_path) as (_, url):
        events, ids = parse_sse(follow(url, "run-1", last))
        thread = httpx.get(f"{url}/ag-ui/threads/t", timeout=10).json()
    assert ids[0] == last + 1
    error = events[-1]
    assert error.type.value == "RUN_ERROR"
    assert error.model_dump()["code"] == "interrupted"
    assert thread["runIds"] == []
    assert thread["messages"][0]["content"] == WORDS  # what the caller sent is kept


def test_a_run_is_cancelled_from_another_process(tmp_path: Path) -> None:
    with host_process(tmp_path) as (_, first), host_process(tmp_path) as (_, second):
        last = start_slow_run(first, "run-1")
        cancelled = httpx.post(f"{second}/ag-ui/runs/run-1/cancel", timeout=30).json()
        events, _ = parse_sse(follow(second, "run-1", last))
    assert cancelled == {"runId": "run-1", "cancelled": True}
    finished = events[-1].model_dump()
    assert finished["type"].value == "RUN_FINISHED"
    assert finished["outcome"] == {"type": "cancelled"}


def test_a_run_of_a_live_process_is_followed_from_another_to_its_end(tmp_path: Path) -> None:
    with host_process(tmp_path) as (_, first), host_process(tmp_path) as (_, second):
        last = start_slow_run(first, "run-1")
        events, ids = parse_sse(follow(second, "run-1", last))
    text = "".join(getattr(event, "delta", "") for event in events)
    assert ids == list(range(last + 1, last + 1 + len(ids)))
    assert events[-1].type.value == "RUN_FINISHED"
    assert text.endswith("(turn 1)")

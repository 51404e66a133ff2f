"""A background run whose process is killed settles as failed once its lease runs out.

Real server processes share a ``state_dir``; the one running background responses is
killed with SIGKILL (no shutdown, nothing flushed) and a new one starts on the same
state. Nothing is settled at startup: a run is settled by whoever looks at it after its
lease expired — a retrieval, a follower, a cancel — and every follower ends.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from agent_framework_hosting.testing import HostProcess, host_process
from openai import OpenAI

SERVER = Path(__file__).resolve().parent / "serve_host.py"
WORDS = " ".join(f"w{n}" for n in range(60))
SLOW = {"DELAY": "0.2", "CHUNKS": "60", "LEASE": "1", "KEEPALIVE": "0.3"}
"""A streamed reply takes 12 s; a run's lease is 1 s."""
SLOW_ONCE = {**SLOW, "DELAY": "12"}
"""A reply that is not streamed takes 12 s."""


def slow(*, stream: bool) -> dict[str, str]:
    return SLOW if stream else SLOW_ONCE


def sdk(url: str) -> OpenAI:
    return OpenAI(base_url=url, api_key="unused", max_retries=0, _strict_response_validation=True)


def start_background(host: HostProcess, *, stream: bool) -> str:
    """A background response's id, once its run has produced something."""
    client = sdk(host.url)
    if not stream:
        return client.responses.create(model="m", input=WORDS, background=True).id
    response_id = ""
    with client.responses.create(model="m", input=WORDS, background=True, stream=True) as events:
        for event in events:
            if event.type == "response.created":
                response_id = event.response.id
            if event.type == "response.output_text.delta":
                return response_id
    raise AssertionError("the stream ended before any text")


def settled(url: str, response_id: str, deadline: float = 20.0) -> dict[str, Any]:
    """The stored response once it is no longer running."""
    give_up = time.monotonic() + deadline
    while True:
        body = httpx.get(f"{url}/responses/{response_id}", timeout=10).json()
        if body["status"] not in ("queued", "in_progress") or time.monotonic() > give_up:
            return body
        time.sleep(0.2)


@pytest.mark.parametrize("stream", [False, True], ids=["polled", "streamed"])
def test_a_killed_run_settles_as_failed_after_a_restart(tmp_path: Path, stream: bool) -> None:
    env = {**slow(stream=stream), "STATE_DIR": str(tmp_path)}
    with host_process(SERVER, env) as first:
        running = start_background(first, stream=stream)
        first.kill()
    with host_process(SERVER, env) as second:
        failed = settled(second.url, running)
        cancelled = httpx.post(f"{second.url}/responses/{running}/cancel", timeout=10)
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "server_error"
    assert "interrupted" in failed["error"]["message"]
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "failed"


def test_a_follower_of_a_killed_stream_ends_with_its_failure(tmp_path: Path) -> None:
    env = {**SLOW, "STATE_DIR": str(tmp_path)}
    with host_process(SERVER, env) as first:
        running = start_background(first, stream=True)
        first.kill()
    with host_process(SERVER, env) as second:
        url = f"{second.url}/responses/{running}?stream=true"
        with httpx.stream("GET", url, timeout=30) as follow:
            text = "".join(follow.iter_text())
    assert "event: response.created" in text
    assert text.rstrip().endswith("data: [DONE]")
    assert "event: response.failed" in text
    assert '"status":"failed"' in text


def test_cancelling_a_killed_run_answers_its_settled_status(tmp_path: Path) -> None:
    env = {**SLOW_ONCE, "STATE_DIR": str(tmp_path)}
    with host_process(SERVER, env) as first:
        running = start_background(first, stream=False)
        first.kill()
    with host_process(SERVER, env) as second:
        time.sleep(1.5)  # past its lease
        cancelled = httpx.post(f"{second.url}/responses/{running}/cancel", timeout=10)
        again = httpx.get(f"{second.url}/responses/{running}", timeout=10)
    assert cancelled.json()["status"] == "failed"
    assert again.json()["status"] == "failed"


def test_a_run_of_a_live_process_is_not_settled_by_another(tmp_path: Path) -> None:
    env = {**SLOW_ONCE, "DELAY": "4", "STATE_DIR": str(tmp_path)}
    with host_process(SERVER, env) as first, host_process(SERVER, env) as second:
        running = start_background(first, stream=False)
        time.sleep(1.5)  # longer than a lease: the owner renews it
        seen = httpx.get(f"{second.url}/responses/{running}", timeout=10).json()
        finished = settled(first.url, running, deadline=60)
    assert seen["status"] == "in_progress"
    assert finished["status"] == "completed"

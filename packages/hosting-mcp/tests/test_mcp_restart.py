"""A call's stream resumed with Last-Event-ID after its server was killed and started again."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

SERVE = Path(__file__).resolve().parent / "serve_mcp.py"
HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "restart", "version": "1"},
    },
}


@contextmanager
def server(env: dict[str, str]) -> Generator[tuple[subprocess.Popen[str], str]]:
    process = subprocess.Popen(
        [sys.executable, str(SERVE)], env={**os.environ, **env}, stdout=subprocess.PIPE, text=True
    )
    found: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            match = re.search(r"http://127\.0\.0\.1:\d+", line)
            if match and not found:
                found.append(match.group(0))
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert ready.wait(30), "the server did not start"
        assert found, "the server did not print its URL"
        yield process, found[0] + "/mcp"
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def events(response: httpx.Response) -> Iterator[tuple[str | None, dict[str, Any]]]:
    """``(id, message)`` per SSE event with data, as they arrive."""
    event_id: str | None = None
    for line in response.iter_lines():
        if line.startswith("id:"):
            event_id = line[3:].strip()
        elif line.startswith("data:") and line[5:].strip():
            yield event_id, json.loads(line[5:])


def test_a_call_cut_by_a_crash_resumes_after_the_restart_and_ends_as_interrupted(
    tmp_path: Path,
) -> None:
    env = {"STATE_DIR": str(tmp_path), "DELAY": "0.3", "CHUNKS": "20", "LEASE": "1"}
    progress: list[float] = []
    with server(env) as (first, url), httpx.Client(timeout=60) as client:
        opened = client.post(url, json=INITIALIZE, headers=HEADERS)
        session = {**HEADERS, "mcp-session-id": opened.headers["mcp-session-id"]}
        session["mcp-protocol-version"] = "2025-11-25"
        client.post(
            url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=session
        )
        call = {
            "jsonrpc": "2.0",
            "id": 7,
            "method": "tools/call",
            "params": {
                "name": "helper",
                "arguments": {"message": " ".join(f"w{n}" for n in range(20))},
                "_meta": {"progressToken": "p"},
            },
        }
        last_id = None
        with client.stream("POST", url, json=call, headers=session) as stream:
            for event_id, message in events(stream):
                last_id = event_id
                progress.append(message["params"]["progress"])
                if len(progress) == 3:
                    break
        first.kill()
        first.wait(timeout=10)
    assert last_id is not None

    with server(env) as (_second, url), httpx.Client(timeout=60) as client:
        resumed = {**session, "last-event-id": last_id, "accept": "text/event-stream"}
        with client.stream("GET", url, headers=resumed) as stream:
            assert stream.status_code == 200
            received = [message for _, message in events(stream)]
    *more, result = received
    progress.extend(message["params"]["progress"] for message in more)
    assert progress == [float(n) for n in range(1, len(progress) + 1)]
    assert result["id"] == 7
    assert result["result"]["isError"] is True
    assert "interrupted" in result["result"]["content"][0]["text"]

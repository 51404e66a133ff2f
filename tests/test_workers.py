"""Several worker processes on one ``state_dir``: every turn of a chain is kept.

A real ASGI server runs the app with two workers on a socket bound here; requests land
on either worker. The state store on disk is shared by the workers: turns of one
conversation run one at a time across them, a worker's live session is checked against
the stored version before each turn, and every worker sees every stored response.
(Which worker takes a connection is the kernel's choice; under Hypercorn both take
turns in this test, so a worker that ran on a stale session would lose turns.)
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import httpx2
import pytest
from agent_framework_hosting.testing import asgi_workers
from openai import OpenAI

HERE = Path(__file__).resolve().parent


def hypercorn(fd: int) -> list[str]:
    return [sys.executable, "-m", "hypercorn", "serve_host:app", "--workers", "2",
            "--bind", f"fd://{fd}"]  # fmt: skip


def uvicorn(fd: int) -> list[str]:
    return [sys.executable, "-m", "uvicorn", "serve_host:app", "--workers", "2",
            "--fd", str(fd), "--log-level", "warning"]  # fmt: skip


@pytest.mark.parametrize("server", [hypercorn, uvicorn], ids=["hypercorn", "uvicorn"])
def test_a_twenty_turn_chain_over_two_workers_keeps_every_turn(
    tmp_path: Path, server: Callable[[int], list[str]]
) -> None:
    with asgi_workers(server, {"STATE_DIR": str(tmp_path)}, cwd=HERE) as url:
        # A new connection per request, so that both workers take turns.
        client = OpenAI(
            base_url=url,
            api_key="unused",
            max_retries=0,
            http_client=httpx2.Client(limits=httpx2.Limits(max_keepalive_connections=0)),
            _strict_response_validation=True,
        )
        previous: str | None = None
        texts: list[str] = []
        for turn in range(1, 21):
            response = client.responses.create(
                model="m", input=f"t{turn}", previous_response_id=previous
            )
            previous = response.id
            texts.append(response.output_text)
    assert texts == [f"Echo: t{turn} (turn {turn})" for turn in range(1, 21)]

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(base_url: str, proc: subprocess.Popen[str], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early:\n{proc.stdout.read() if proc.stdout else ''}")
        try:
            if httpx.get(f"{base_url}/readiness", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise TimeoutError(f"{base_url} did not become ready")


class SampleProcess:
    def __init__(self, script: str, env: dict[str, str]) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        full_env = {k: v for k, v in __import__("os").environ.items() if k != "OPENAI_API_KEY"}
        full_env.update(env, PORT=str(self.port), PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, str(REPO / script)],
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        wait_ready(self.base_url, self.proc)

    def kill(self) -> str:
        self.proc.kill()
        out, _ = self.proc.communicate(timeout=10)
        return out


@pytest.fixture
def quickstart(tmp_path: Path) -> Iterator[SampleProcess]:
    sample = SampleProcess("samples/quickstart.py", {"STATE_DIR": str(tmp_path / "state")})
    try:
        yield sample
    finally:
        sample.kill()

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

ANNOUNCED = re.compile(r" on (http://127\.0\.0\.1:\d+) \(Ctrl\+C to stop\)$")
"""The line ``serve()`` prints once the app has started; the group is the base URL."""


class ServerProcess:
    """A server in a child process, and every line it has printed so far.

    Its URL is the one it announces once started, read from its own output: nothing is
    asked of a port some other process might hold.
    """

    def __init__(
        self,
        command: Sequence[str],
        env: dict[str, str],
        *,
        cwd: Path | None = None,
        own_group: bool = False,
    ) -> None:
        self.proc = subprocess.Popen(
            [*command],
            cwd=cwd,
            env={**env, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=own_group,
        )
        self.lines: list[str] = []
        self._printed = threading.Condition()
        self._ended = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def line(self, pattern: re.Pattern[str], *, nth: int = 1, deadline: float = 60.0) -> str:
        """The ``nth`` line matching ``pattern``, waiting up to ``deadline`` seconds for it.

        Raises:
            RuntimeError: The process ended, or the deadline passed, before it was printed.

        """
        give_up = time.monotonic() + deadline
        with self._printed:
            while True:
                found = [line for line in self.lines if pattern.search(line)]
                if len(found) >= nth:
                    return found[nth - 1]
                left = give_up - time.monotonic()
                if self._ended or left <= 0:
                    raise RuntimeError(
                        f"no line matching {pattern.pattern!r} (exit code "
                        f"{self.proc.poll()}):\n{''.join(self.lines)}"
                    )
                self._printed.wait(left)

    def url(self, *, nth: int = 1) -> str:
        """The base URL of the ``nth`` server it announced (a reloader starts several)."""
        match = ANNOUNCED.search(self.line(ANNOUNCED, nth=nth))
        assert match is not None
        return match.group(1)

    def kill(self) -> str:
        """SIGKILL it; everything it printed."""
        self.proc.kill()
        return self.output()

    def interrupt(self) -> str:
        """Stop it (and its children) as a terminal's Ctrl+C does; everything it printed."""
        os.killpg(self.proc.pid, signal.SIGINT)
        return self.output()

    def output(self) -> str:
        """Everything it printed, once it has ended."""
        self.proc.wait(timeout=30)
        self._reader.join(timeout=10)
        return "".join(self.lines)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._printed:
                self.lines.append(line)
                self._printed.notify_all()
        with self._printed:
            self._ended = True
            self._printed.notify_all()
        self.proc.stdout.close()


def environment(**changes: str) -> dict[str, str]:
    """This process's environment without model keys, with ``changes``."""
    hidden = ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY", "TELEGRAM_BOT_TOKEN")
    return {**{k: v for k, v in os.environ.items() if k not in hidden}, **changes}


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SampleProcess(ServerProcess):
    """A sample, run as its instructions say: ``PORT=... python samples/<name>.py``.

    A sample takes its port from ``PORT`` and prints it before it serves, so it is given
    one: if another process took that port in between, the sample says so and exits, and
    it is started again on another.
    """

    def __init__(self, script: str, env: dict[str, str], *, attempts: int = 5) -> None:
        for _ in range(attempts):
            self.port = _unused_port()
            super().__init__(
                [sys.executable, str(REPO / script)],
                environment(**env, PORT=str(self.port)),
            )
            try:
                self.base_url = self.url()
            except RuntimeError:
                if "is already in use" not in self.output():
                    raise
                continue
            if self.base_url == f"http://127.0.0.1:{self.port}":
                return
            self.kill()
            raise RuntimeError(f"{script} served on {self.base_url}, not on port {self.port}")
        raise RuntimeError(f"{script}: every port tried was taken before it listened")


@pytest.fixture
def quickstart(tmp_path: Path) -> Iterator[SampleProcess]:
    sample = SampleProcess("samples/quickstart.py", {"STATE_DIR": str(tmp_path / "state")})
    try:
        yield sample
    finally:
        sample.kill()

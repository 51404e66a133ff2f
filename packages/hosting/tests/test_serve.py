"""``host.serve()`` as a user runs it: a child process on a loopback port."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from collections.abc import Generator
from contextlib import contextmanager
from pathlib import Path

import httpx

SERVE = """
import sys
from agent_framework import Agent
from agent_framework_hosting import AgentFrameworkHost, ChannelContribution
from agent_framework_hosting.testing import OfflineChatClient
sys.path.insert(0, {tests!r})
from echo_channel import EchoChannel

class Polling:  # serves no path, as a bot that polls its platform
    name = "polling"
    path = "/polling"

    def contribute(self, context):
        return ChannelContribution()

agent = Agent(client=OfflineChatClient(), name="helper")
channels = [EchoChannel(), EchoChannel(name="two", path="/two"), Polling()]
host = AgentFrameworkHost(agent, channels=channels)
host.serve(port=int(sys.argv[1]), access_log=sys.argv[2] == "on")
"""

TESTS = str(Path(__file__).resolve().parent)


def start(port: int, access_log: str = "on") -> subprocess.Popen[str]:
    # -W ignore: some framework versions warn on import; what the host prints is tested.
    return subprocess.Popen(
        [sys.executable, "-W", "ignore", "-c", SERVE.format(tests=TESTS), str(port), access_log],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@contextmanager
def serving(access_log: str = "on") -> Generator[tuple[int, subprocess.Popen[str], list[str]]]:
    """The server on a port it picked, once it has printed where it serves; those lines."""
    process = start(0, access_log)
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline().rstrip("\n") for _ in range(5)]
        base = re.search(r" on http://127\.0\.0\.1:(\d+) ", banner[0])
        assert base is not None, banner
        yield int(base.group(1)), process, banner
    finally:
        process.kill()
        process.communicate()


def test_serve_prints_the_base_url_and_one_line_per_channel_path_once_started() -> None:
    with serving() as (port, _process, banner):
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/readiness").text == "ok"
    assert banner == [
        f"Serving agent 'helper' on {base} (Ctrl+C to stop)",
        f"  echo       {base}/echo",
        f"  two        {base}/two",
        "  polling    (no HTTP path)",
        f"  readiness  {base}/readiness",
    ]


def test_serve_prints_an_access_line_per_request() -> None:
    with serving() as (port, process, _banner):
        httpx.post(f"http://127.0.0.1:{port}/echo", json={"text": "hi"})
        assert process.stdout is not None
        line = process.stdout.readline()
    assert line.startswith("127.0.0.1:")
    assert line.rstrip().endswith('"POST /echo 1.1" 200 28')


def test_access_log_off_prints_no_request_lines() -> None:
    with serving(access_log="off") as (port, process, _banner):
        httpx.post(f"http://127.0.0.1:{port}/echo", json={"text": "hi"})
        httpx.get(f"http://127.0.0.1:{port}/readiness")
        process.terminate()
        assert process.stdout is not None
        rest = process.stdout.read()
    assert "/echo" not in rest
    assert "/readiness" not in rest


def test_a_port_in_use_is_one_line_naming_the_port() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = start(port)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 1
    assert out == ""
    assert err.splitlines() == [
        f"Port {port} is already in use (127.0.0.1:{port}): stop what is listening there, "
        "or serve on another port."
    ]


def test_the_index_lists_the_target_and_what_each_channel_serves() -> None:
    with serving() as (port, _process, _banner):
        index = httpx.get(f"http://127.0.0.1:{port}/").json()
    assert index == {
        "target": {"kind": "agent", "name": "helper"},
        "channels": [
            {"name": "echo", "paths": ["/echo"]},
            {"name": "two", "paths": ["/two"]},
            {"name": "polling", "paths": []},
        ],
        "readiness": "/readiness",
    }

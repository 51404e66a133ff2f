"""The dev command, run as a user runs it: a child process on a loopback port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from openai import OpenAI

from .conftest import ServerProcess, environment

APP = """
from agent_framework import Agent
from agent_framework_hosting.testing import OfflineChatClient

agent = Agent(client=OfflineChatClient(), name={name!r})
"""


class DevProcess(ServerProcess):
    """``agent-framework-hosting dev ... --port 0``: its server picks a free port."""

    def __init__(self, tmp_path: Path, *args: str) -> None:
        command = [sys.executable, "-m", "agent_framework_hosting", "dev", *args, "--port", "0"]
        # Its own process group: Ctrl+C reaches the reloader and its server alike.
        super().__init__(command, environment(), cwd=tmp_path, own_group=True)

    @property
    def base_url(self) -> str:
        """The URL of the server it started first."""
        return self.url()


@pytest.fixture
def app_file(tmp_path: Path) -> Path:
    app = tmp_path / "app.py"
    app.write_text(APP.format(name="first"))
    return app


@pytest.fixture
def dev(tmp_path: Path, app_file: Path) -> Iterator[DevProcess]:
    process = DevProcess(tmp_path, f"{app_file}:agent")
    try:
        process.url()
        yield process
    finally:
        if process.proc.poll() is None:
            os.killpg(process.proc.pid, signal.SIGKILL)
            process.output()


def model_ids(base_url: str) -> list[str]:
    return [model["id"] for model in httpx.get(f"{base_url}/v1/models").json()["data"]]


def test_dev_serves_the_agent_of_a_file_on_the_installed_channels(dev: DevProcess) -> None:
    client = OpenAI(
        base_url=f"{dev.base_url}/v1",
        api_key="unused",
        max_retries=0,
        _strict_response_validation=True,
    )
    reply = client.responses.create(model="first", input="Hello")
    assert reply.output_text == "Echo: Hello (turn 1)"


def test_dev_prints_the_urls_and_the_channels_it_skipped(dev: DevProcess) -> None:
    output = dev.interrupt()
    assert "telegram: skipped, set TELEGRAM_BOT_TOKEN to serve the bot too" in output
    assert f"Serving agent 'first' on {dev.base_url} (Ctrl+C to stop)" in output
    assert f"  responses  {dev.base_url}/v1/responses" in output
    assert f"  mcp        {dev.base_url}/mcp" in output
    assert f"{dev.base_url}/a2a\n" in output


def test_dev_serves_the_web_chat_at_the_root(dev: DevProcess) -> None:
    page = httpx.get(f"{dev.base_url}/")
    assert page.headers["content-type"].startswith("text/html")
    assert '<meta name="ag-ui-endpoint" content="/ag-ui">' in page.text


def test_dev_restarts_the_server_when_the_file_changes(dev: DevProcess, app_file: Path) -> None:
    assert model_ids(dev.base_url) == ["first"]
    app_file.write_text(APP.format(name="second"))
    later = time.time() + 5  # a change the file's timestamp resolution cannot hide
    os.utime(app_file, (later, later))
    restarted = dev.url(nth=2)  # announced once the new server has started
    assert model_ids(restarted) == ["second"]
    assert "Changed: " in dev.interrupt()


def test_ctrl_c_stops_the_server_too(dev: DevProcess) -> None:
    dev.interrupt()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{dev.base_url}/readiness")


def test_without_a_name_the_one_agent_of_the_file_is_served(tmp_path: Path, app_file: Path) -> None:
    process = DevProcess(tmp_path, str(app_file), "--no-reload")
    try:
        process.url()
        assert model_ids(process.base_url) == ["first"]
    finally:
        process.interrupt()


def test_a_host_object_is_served_as_it_is(tmp_path: Path) -> None:
    (tmp_path / "hosted.py").write_text(
        APP.format(name="hosted")
        + "from agent_framework_hosting import AgentFrameworkHost\n"
        + "from agent_framework_hosting_responses import ResponsesChannel\n"
        + "host = AgentFrameworkHost(agent, channels=[ResponsesChannel(alias_prefix=None)])\n"
    )
    process = DevProcess(tmp_path, "hosted.py:host", "--no-reload")
    try:
        process.url()
        assert httpx.get(f"{process.base_url}/v1/models").status_code == 404
        assert httpx.get(f"{process.base_url}/models").json()["data"][0]["id"] == "hosted"
    finally:
        output = process.interrupt()
    assert "telegram" not in output


@pytest.mark.parametrize(
    ("source", "named", "message"),
    [
        ("name = 'my agent'\n", "app.py:name", "got the string 'my agent'"),
        ("", "app.py:agent", "app.py has no 'agent'"),
        ("", "app.py", "app.py defines 0 agents, workflows or hosts (none): name one"),
        ("", "missing.py:agent", "missing.py: no such file"),
    ],
)
def test_what_cannot_be_served_is_one_line(
    tmp_path: Path, source: str, named: str, message: str
) -> None:
    (tmp_path / "app.py").write_text(source)
    done = subprocess.run(
        [sys.executable, "-m", "agent_framework_hosting", "dev", named, "--no-reload"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("agent-framework-hosting dev: ")
    assert message in line


def test_the_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "agent-framework-hosting"
    done = subprocess.run([script, "dev", "--help"], capture_output=True, text=True, check=True)
    assert "path/to/app.py:name" in done.stdout

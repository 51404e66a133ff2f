"""Building the host: channel checks, the app, lifespan, commands, extras."""

from __future__ import annotations

import builtins
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from agent_framework import Agent
from agent_framework_hosting import (
    AgentFrameworkHost,
    ChannelCommand,
    ChannelCommandContext,
    ChannelContext,
    ChannelContribution,
    HostStatePaths,
    MemoryStateStore,
)
from agent_framework_hosting._paths import resolve_state_paths  # pyright: ignore[reportPrivateUsage]
from agent_framework_hosting.testing import LoopbackServer, OfflineChatClient, review_workflow
from echo_channel import EchoChannel
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from websockets.sync.client import connect


def agent() -> Agent:
    return Agent(client=OfflineChatClient())


def test_duplicate_channel_names_are_rejected() -> None:
    with pytest.raises(ValueError, match="'echo'"):
        AgentFrameworkHost(agent(), channels=[EchoChannel(path="/a"), EchoChannel(path="/b")])


@pytest.mark.parametrize(("first", "second"), [("/a", "/a"), ("/a", "/a/b"), ("/a/", "a")])
def test_colliding_paths_are_rejected(first: str, second: str) -> None:
    channels = [EchoChannel(name="one", path=first), EchoChannel(name="two", path=second)]
    with pytest.raises(ValueError, match="'one' and 'two'"):
        AgentFrameworkHost(agent(), channels=channels)


def test_sibling_paths_sharing_a_prefix_are_fine() -> None:
    channels = [EchoChannel(name="one", path="/api"), EchoChannel(name="two", path="/apix")]
    AgentFrameworkHost(agent(), channels=channels)


def test_a_non_channel_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="not a Channel"):
        AgentFrameworkHost(agent(), channels=[object()])  # type: ignore[list-item]


def test_readiness_and_bare_channel_path_answer_without_redirect() -> None:
    host = AgentFrameworkHost(agent(), channels=[EchoChannel(path="/echo")])
    with LoopbackServer(host.app) as server:
        assert httpx.get(f"{server.base_url}/readiness").text == "ok"
        bare = httpx.post(f"{server.base_url}/echo", json={"text": "hi"})
        slash = httpx.post(f"{server.base_url}/echo/", json={"text": "hi"})
    assert bare.status_code == slash.status_code == 200
    assert bare.json()["text"] == "Echo: hi (turn 1)"


def test_empty_path_mounts_at_the_root() -> None:
    host = AgentFrameworkHost(agent(), channels=[EchoChannel(path="")])
    with LoopbackServer(host.app) as server:
        response = httpx.post(f"{server.base_url}/", json={"text": "root"})
    assert response.json()["text"] == "Echo: root (turn 1)"


def test_a_channel_at_slash_mounts_at_the_root() -> None:
    host = AgentFrameworkHost(agent(), channels=[EchoChannel(path="/")])
    with LoopbackServer(host.app) as server:
        response = httpx.post(f"{server.base_url}/", json={"text": "root"})
    assert response.json()["text"] == "Echo: root (turn 1)"


@pytest.mark.parametrize("path", ["echo", "/echo/"])
def test_a_path_without_its_leading_or_with_a_trailing_slash_still_mounts(path: str) -> None:
    host = AgentFrameworkHost(agent(), channels=[EchoChannel(path=path)])
    with LoopbackServer(host.app) as server:
        response = httpx.post(f"{server.base_url}/echo", json={"text": "hi"})
    assert response.json()["text"] == "Echo: hi (turn 1)"


class _WebSocketEchoChannel:
    name = "ws-echo"
    path = "/ws"

    def contribute(self, context: Any) -> ChannelContribution:
        async def echo(websocket: WebSocket) -> None:
            await websocket.accept()
            await websocket.send_text(await websocket.receive_text())
            await websocket.close()

        return ChannelContribution(routes=[WebSocketRoute("/", echo)])


@pytest.mark.parametrize("path", ["/ws", "/ws/"])
def test_a_websocket_route_at_slash_answers_the_bare_path_too(path: str) -> None:
    host = AgentFrameworkHost(agent(), channels=[_WebSocketEchoChannel()])
    with LoopbackServer(host.app) as server, connect(f"ws://127.0.0.1:{server.port}{path}") as ws:
        ws.send("ping")
        assert ws.recv() == "ping"


class _RoutelessChannel:
    name = "routeless"
    path = "/routeless"

    def contribute(self, context: Any) -> ChannelContribution:
        return ChannelContribution()


def test_a_channel_without_routes_mounts_nothing_at_its_path() -> None:
    host = AgentFrameworkHost(agent(), channels=[_RoutelessChannel()])
    with LoopbackServer(host.app) as server:
        response = httpx.post(f"{server.base_url}/routeless", follow_redirects=False)
    assert response.status_code == 404


def test_readiness_is_registered_before_channel_routes() -> None:
    host = AgentFrameworkHost(agent(), channels=[EchoChannel(path="")])
    with LoopbackServer(host.app) as server:
        response = httpx.get(f"{server.base_url}/readiness")
    assert response.text == "ok"


def test_startup_runs_in_channel_order_and_shutdown_in_reverse() -> None:
    calls: list[str] = []

    def recorder(label: str) -> Any:
        async def record() -> None:
            calls.append(label)

        return record

    channels = [
        EchoChannel(
            name=name,
            path=f"/{name}",
            on_startup=[recorder(f"start {name}")],
            on_shutdown=[recorder(f"stop {name}")],
        )
        for name in ("a", "b")
    ]
    with LoopbackServer(AgentFrameworkHost(agent(), channels=channels).app):
        assert calls == ["start a", "start b"]
    assert calls == ["start a", "start b", "stop b", "stop a"]


def test_failing_startup_names_the_channel_and_stops_started_ones() -> None:
    calls: list[str] = []

    async def started() -> None:
        calls.append("start a")

    async def stopped() -> None:
        calls.append("stop a")

    async def broken() -> None:
        raise OSError("port in use")

    channels = [
        EchoChannel(name="a", path="/a", on_startup=[started], on_shutdown=[stopped]),
        EchoChannel(name="b", path="/b", on_startup=[broken]),
    ]
    server = LoopbackServer(AgentFrameworkHost(agent(), channels=channels).app)
    with pytest.raises(RuntimeError, match="Channel 'b' failed to start"):
        server.start()
    assert calls == ["start a", "stop a"]


def test_contributed_commands_reach_every_channel() -> None:
    async def ping(ctx: ChannelCommandContext) -> None:
        await ctx.reply("pong")

    offering = EchoChannel(name="a", path="/a", commands=[ChannelCommand("ping", "Ping", ping)])
    other = EchoChannel(name="b", path="/b")
    host = AgentFrameworkHost(agent(), channels=[offering, other])
    with LoopbackServer(host.app) as server:
        names = [command.name for command in host.commands]
        reply = httpx.post(f"{server.base_url}/b/command", json={"name": "ping"})
    assert names == ["new", "reset", "ping"]
    assert reply.json() == {"replies": ["pong"]}


def test_reset_command_starts_a_new_session() -> None:
    host = AgentFrameworkHost(agent(), channels=[EchoChannel()])
    with LoopbackServer(host.app) as server:
        url = f"{server.base_url}/echo"
        httpx.post(url, json={"text": "one", "key": "k"})
        reply = httpx.post(f"{url}/command", json={"name": "reset", "key": "k"})
        after = httpx.post(url, json={"text": "two", "key": "k"})
    assert reply.json() == {"replies": ["Started a new conversation."]}
    assert after.json()["text"] == "Echo: two (turn 1)"


def block_import(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    real_import = builtins.__import__

    def fake_import(module: str, *args: Any, **kwargs: Any) -> Any:
        if module == name or module.startswith(name + "."):
            raise ImportError(f"No module named {module!r}")
        return real_import(module, *args, **kwargs)

    for loaded in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        monkeypatch.delitem(sys.modules, loaded)
    monkeypatch.setattr(builtins, "__import__", fake_import)


def test_serve_without_hypercorn_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    block_import(monkeypatch, "hypercorn")
    host = AgentFrameworkHost(agent(), channels=[])
    with pytest.raises(RuntimeError, match=r"pip install 'agent-framework-hosting\[serve\]'"):
        host.serve(port=0)


def test_state_dir_without_diskcache_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    block_import(monkeypatch, "diskcache")
    with pytest.raises(ImportError, match=r"pip install 'agent-framework-hosting\[disk\]'"):
        AgentFrameworkHost(agent(), channels=[], state_dir=tmp_path)


def test_state_dir_derives_a_sessions_directory(tmp_path: Path) -> None:
    AgentFrameworkHost(agent(), channels=[], state_dir=tmp_path)
    assert (tmp_path / "sessions").is_dir()


def test_state_paths_reject_an_unknown_component(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Unknown state_dir"):
        AgentFrameworkHost(agent(), channels=[], state_dir={"sesions": str(tmp_path)})


def test_state_paths_reject_a_non_path_value() -> None:
    with pytest.raises(TypeError, match="must be a path"):
        AgentFrameworkHost(agent(), channels=[], state_dir={"sessions": 42})


def test_state_paths_mapping_places_each_component(tmp_path: Path) -> None:
    paths = HostStatePaths(sessions=tmp_path / "s", checkpoints=str(tmp_path / "c"))
    assert resolve_state_paths(paths, workflow=True) == {
        "sessions": tmp_path / "s",
        "checkpoints": tmp_path / "c",
    }


def test_a_plain_state_dir_derives_checkpoints_only_for_workflows(tmp_path: Path) -> None:
    assert resolve_state_paths(tmp_path, workflow=False) == {"sessions": tmp_path / "sessions"}
    assert resolve_state_paths(str(tmp_path), workflow=True) == {
        "sessions": tmp_path / "sessions",
        "checkpoints": tmp_path / "checkpoints",
    }


def test_no_state_dir_keeps_everything_in_memory() -> None:
    assert resolve_state_paths(None, workflow=True) == {}
    host = AgentFrameworkHost(agent(), channels=[])
    assert isinstance(host.state_store, MemoryStateStore)


def test_isolation_headers_are_trusted_only_on_the_platform_or_when_asked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("FOUNDRY_HOSTING_ENVIRONMENT", raising=False)
    assert not AgentFrameworkHost(agent(), channels=[]).trust_isolation_headers
    assert AgentFrameworkHost(
        agent(), channels=[], trust_isolation_headers=True
    ).trust_isolation_headers
    monkeypatch.setenv("FOUNDRY_HOSTING_ENVIRONMENT", "production")
    assert AgentFrameworkHost(agent(), channels=[]).trust_isolation_headers
    explicit = AgentFrameworkHost(agent(), channels=[], trust_isolation_headers=False)
    assert not explicit.trust_isolation_headers


def test_contribution_defaults_are_empty() -> None:
    contribution = ChannelContribution()
    assert contribution.routes == contribution.commands == ()
    assert contribution.on_startup == contribution.on_shutdown == ()
    assert contribution.mounts == {}


def test_an_unknown_command_is_not_found() -> None:
    host = AgentFrameworkHost(agent(), channels=[EchoChannel()])
    with LoopbackServer(host.app) as server:
        response = httpx.post(f"{server.base_url}/echo/command", json={"name": "nope"})
    assert response.status_code == 404


def test_a_channel_can_override_a_builtin_command() -> None:
    async def custom_reset(ctx: ChannelCommandContext) -> None:
        await ctx.reply("custom")

    channel = EchoChannel(commands=[ChannelCommand("reset", "Custom", custom_reset)])
    host = AgentFrameworkHost(agent(), channels=[channel])
    with LoopbackServer(host.app) as server:
        reply = httpx.post(f"{server.base_url}/echo/command", json={"name": "reset", "key": "k"})
    assert [command.name for command in host.commands] == ["new", "reset"]
    assert reply.json() == {"replies": ["custom"]}


def test_another_channels_context_lists_contributed_commands() -> None:
    async def ping(ctx: ChannelCommandContext) -> None:
        await ctx.reply("pong")

    offering = EchoChannel(name="a", path="/a", commands=[ChannelCommand("ping", "Ping", ping)])
    other = EchoChannel(name="b", path="/b")
    assert AgentFrameworkHost(agent(), channels=[offering, other]).app is not None
    assert other.context is not None
    assert "ping" in [command.name for command in other.context.commands]


async def _sibling(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"sibling {request.path_params.get('item', '')}".strip())


SIBLING_ROUTES = [
    Route("/", _sibling, methods=["GET"]),
    Route("/{item}", _sibling, methods=["GET"]),
]


def test_a_mount_serves_its_routes_at_an_absolute_path_beside_the_channel() -> None:
    channel = EchoChannel(path="/v1/echo", mounts={"/v1/siblings": SIBLING_ROUTES})
    host = AgentFrameworkHost(agent(), channels=[channel])
    with LoopbackServer(host.app) as server:
        bare = httpx.get(f"{server.base_url}/v1/siblings")
        nested = httpx.get(f"{server.base_url}/v1/siblings/x")
        turn = httpx.post(f"{server.base_url}/v1/echo", json={"text": "hi"})
    assert (bare.text, nested.text) == ("sibling", "sibling x")
    assert turn.json()["text"] == "Echo: hi (turn 1)"


@pytest.mark.parametrize("mount", ["/b", "/b/inner", "b/", "/a"])
def test_a_mount_colliding_with_a_channel_path_is_rejected(mount: str) -> None:
    one = EchoChannel(name="one", path="/a", mounts={mount: SIBLING_ROUTES})
    two = EchoChannel(name="two", path="/b")
    host = AgentFrameworkHost(agent(), channels=[one, two])
    with pytest.raises(ValueError, match="'one' \\(mount"):
        _ = host.app


def test_two_channels_mounting_the_same_path_are_rejected() -> None:
    one = EchoChannel(name="one", path="/a", mounts={"/shared": SIBLING_ROUTES})
    two = EchoChannel(name="two", path="/b", mounts={"/shared/": SIBLING_ROUTES})
    host = AgentFrameworkHost(agent(), channels=[one, two])
    with pytest.raises(ValueError, match="'one' \\(mount '/shared'\\) and 'two'"):
        _ = host.app


@pytest.mark.parametrize(
    ("target", "named"),
    [
        ("my agent", "the string 'my agent': pass the agent object itself"),
        (None, "got None"),
        (OfflineChatClient(), "a chat client (OfflineChatClient): wrap it in an agent"),
        (lambda: Agent(client=OfflineChatClient()), "a lambda returned an agent (Agent)"),
        (lambda: "workflow", "a lambda returned the string 'workflow'"),
        (lambda name: str(name), "a lambda, which cannot be called without arguments"),  # pyright: ignore[reportUnknownLambdaType]
        (Agent, "the class Agent: pass an instance"),
        (42, "got int 42"),
    ],
)
def test_a_target_that_is_neither_agent_nor_workflow_is_refused_at_construction(
    target: Any, named: str
) -> None:
    with pytest.raises(TypeError) as raised:
        AgentFrameworkHost(target, channels=[EchoChannel()])
    message = str(raised.value)
    assert message.startswith("AgentFrameworkHost serves an agent (an object with run() and")
    assert "a Workflow, or a zero-argument factory returning a new Workflow" in message
    assert named in message


def test_a_coroutine_function_factory_is_refused_without_an_unawaited_warning() -> None:
    async def build() -> Any:
        return None

    with pytest.raises(TypeError, match="is a coroutine function"):
        AgentFrameworkHost(build, channels=[EchoChannel()])  # pyright: ignore[reportArgumentType]


def test_a_duck_typed_agent_with_run_and_create_session_is_served_as_an_agent() -> None:
    class Minimal:
        def __init__(self) -> None:
            self.inner = agent()

        def run(self, *args: Any, **kwargs: Any) -> Any:
            return self.inner.run(*args, **kwargs)

        def create_session(self, **kwargs: Any) -> Any:
            return self.inner.create_session(**kwargs)

    # Not the framework's full SupportsAgentRun protocol (no id, name, get_session...).
    host = AgentFrameworkHost(Minimal(), channels=[EchoChannel()])  # pyright: ignore[reportArgumentType]
    with LoopbackServer(host.app) as server:
        response = httpx.post(f"{server.base_url}/echo", json={"text": "hi"})
    assert response.json()["text"] == "Echo: hi (turn 1)"


def test_the_index_gives_way_to_a_channel_at_the_root() -> None:
    host = AgentFrameworkHost(agent(), channels=[EchoChannel(path="")])
    with LoopbackServer(host.app) as server:
        posted = httpx.post(f"{server.base_url}/", json={"text": "root"})
        index = httpx.get(f"{server.base_url}/")
    assert posted.json()["text"] == "Echo: root (turn 1)"
    assert index.json()["channels"] == [{"name": "echo", "paths": ["/"]}]


class PageChannel:
    """A channel with a page for people at ``/`` (mounted beside its own path)."""

    name = "page"
    path = "/page"

    def contribute(self, context: ChannelContext) -> ChannelContribution:
        async def page(_request: Request) -> PlainTextResponse:
            return PlainTextResponse("a page for people")

        return ChannelContribution(mounts={"/": [Route("/", page, methods=["GET"])]})


def test_the_index_is_at_index_json_beside_a_page_at_the_root() -> None:
    host = AgentFrameworkHost(agent(), channels=[PageChannel()])
    with LoopbackServer(host.app) as server:
        page = httpx.get(f"{server.base_url}/")
        index = httpx.get(f"{server.base_url}/index.json")
    assert page.text == "a page for people"
    assert index.json()["channels"] == [{"name": "page", "paths": ["/"]}]


def test_the_index_names_a_workflow_by_its_own_name() -> None:
    host = AgentFrameworkHost(review_workflow, channels=[EchoChannel()])
    with LoopbackServer(host.app) as server:
        index = httpx.get(f"{server.base_url}/").json()
    assert index["target"] == {"kind": "workflow", "name": "review"}

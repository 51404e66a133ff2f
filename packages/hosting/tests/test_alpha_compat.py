"""Apps and channels written against the 1.0.0a260625 alpha run unchanged.

Each test is one call shape or default of the alpha's public API, exercised through the
public API here; docs/migrating-from-the-alpha.md lists what deliberately differs.
"""

from __future__ import annotations

import contextvars
import dataclasses
import json
import logging
from collections.abc import AsyncIterator, Generator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from agent_framework import (
    Agent,
    AgentResponse,
    AgentResponseUpdate,
    AgentSession,
    Content,
    ContextProvider,
    FileCheckpointStorage,
    InMemoryCheckpointStorage,
    Message,
    SessionContext,
    SupportsAgentRun,
    Workflow,
    WorkflowBuilder,
    WorkflowEvent,
)
from agent_framework_hosting import (
    AgentFrameworkHost,
    ChannelContext,
    ChannelContribution,
    ChannelIdentity,
    ChannelRequest,
    ChannelSession,
    HostedRunResult,
    IsolationKeys,
    WorkflowTurnResponse,
    __version__,
    get_current_isolation_keys,
    logger,
)
from agent_framework_hosting.testing import LoopbackServer, OfflineChatClient
from echo_channel import EchoChannel, echo_context, echo_turn
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from test_workflows import Counter, build


class AlphaStyleChannel:
    """A channel written on the alpha's contract: it hands its hooks to every call.

    ``POST /`` ``{"text", "key"?, "stream"?}`` answers ``{"text"}``, or streamed text
    lines then the final text. ``GET /whoami`` answers the request's isolation keys.
    """

    name = "alpha"
    path = "/alpha"

    def __init__(self, *, run_hook: Any = None, response_hook: Any = None) -> None:
        self.run_hook = run_hook
        self.response_hook = response_hook
        self.stream_update_hook: Any = None
        self.context: ChannelContext | None = None

    def contribute(self, context: ChannelContext) -> ChannelContribution:
        self.context = context
        return ChannelContribution(
            routes=[Route("/", self.turn, methods=["POST"]), Route("/whoami", self.whoami)]
        )

    async def turn(self, request: Request) -> Response:
        assert self.context is not None
        body = json.loads(await request.body())
        run = ChannelRequest(
            channel=self.name,
            operation="message.create",
            input=body["text"],
            session=ChannelSession(isolation_key=body.get("key")),
            stream=bool(body.get("stream")),
        )
        if not run.stream:
            result = await self.context.run(
                run,
                run_hook=self.run_hook,
                protocol_request=body,
                response_hook=self.response_hook,
                channel_name=self.name,
            )
            return JSONResponse({"text": result.result.text})
        stream = await self.context.run_stream(
            run,
            run_hook=self.run_hook,
            protocol_request=body,
            stream_update_hook=self.stream_update_hook,
            response_hook=self.response_hook,
            channel_name=self.name,
        )
        return StreamingResponse(_lines(stream), media_type="text/plain")

    async def whoami(self, _request: Request) -> Response:
        keys = get_current_isolation_keys()
        if keys is None:
            return JSONResponse(None)
        return JSONResponse({"user": keys.user_key, "chat": keys.chat_key})


async def _lines(stream: Any) -> AsyncIterator[bytes]:
    async for update in stream:
        yield f"update: {update.text}\n".encode()
    final: AgentResponse = await stream.get_final_response()
    yield f"final: {final.text}\n".encode()


def alpha_host(target: Any, channel: AlphaStyleChannel, **options: Any) -> AgentFrameworkHost:
    return AgentFrameworkHost(target, channels=[channel], **options)


# Channel authors: the alpha's ChannelContext call shapes


def test_an_alpha_style_channel_runs_with_the_hooks_it_passes() -> None:
    calls: list[str] = []

    def run_hook(request: ChannelRequest, *, target: Any, protocol_request: Any) -> ChannelRequest:
        calls.append(f"run:{protocol_request['text']}")
        return dataclasses.replace(request, input=f"{request.input}!")

    def response_hook(
        result: HostedRunResult[AgentResponse], *, request: ChannelRequest, channel_name: str
    ) -> HostedRunResult[AgentResponse]:
        calls.append(f"response:{channel_name}")
        return result

    channel = AlphaStyleChannel(run_hook=run_hook, response_hook=response_hook)
    host = alpha_host(Agent(client=OfflineChatClient()), channel)
    with LoopbackServer(host.app) as server:
        answer = httpx.post(f"{server.base_url}/alpha", json={"text": "hi", "key": "k"})
    assert answer.json() == {"text": "Echo: hi! (turn 1)"}
    assert calls == ["run:hi", "response:alpha"]


def test_an_alpha_style_channel_streams_and_reads_the_final_response() -> None:
    channel = AlphaStyleChannel()
    host = alpha_host(Agent(client=OfflineChatClient()), channel)
    with LoopbackServer(host.app) as server:
        answer = httpx.post(f"{server.base_url}/alpha", json={"text": "hi", "stream": True})
    lines = answer.text.splitlines()
    assert lines[-1] == "final: Echo: hi (turn 1)"
    assert "".join(line.removeprefix("update: ") for line in lines[:-1]) == "Echo: hi (turn 1)"


async def test_a_stream_update_hook_passed_to_run_stream_rewrites_updates() -> None:
    context = echo_context(Agent(client=OfflineChatClient()))

    def shout(update: AgentResponseUpdate) -> AgentResponseUpdate:
        return AgentResponseUpdate(
            contents=[Content.from_text(update.text.upper())], role="assistant"
        )

    stream = await context.run_stream(echo_turn("hi", "k"), stream_update_hook=shout)
    assert "".join([update.text async for update in stream]) == "ECHO: HI (TURN 1)"


async def test_a_hook_passed_as_none_replaces_the_declared_one_for_the_run() -> None:
    def forbidden(request: ChannelRequest, **_: Any) -> ChannelRequest:
        raise AssertionError("the declared run hook ran")

    channel = EchoChannel(run_hook=forbidden)
    assert AgentFrameworkHost(Agent(client=OfflineChatClient()), channels=[channel]).app
    assert channel.context is not None
    result = await channel.context.run(echo_turn("hi", "k"), run_hook=None)
    assert result.text == "Echo: hi (turn 1)"


async def test_awaiting_the_run_stream_gives_its_final_result() -> None:
    context = echo_context(Agent(client=OfflineChatClient()))
    final = await (await context.run_stream(echo_turn("hi", "k")))
    assert final.text == "Echo: hi (turn 1)"


async def test_the_run_stream_reads_what_it_lacks_on_the_frameworks_stream() -> None:
    context = echo_context(Agent(client=OfflineChatClient()))
    stream: Any = await context.run_stream(echo_turn("hi", "k"))  # read as the alpha's
    first = await anext(aiter(stream))
    assert any(update.text == first.text for update in stream.updates)
    await stream.get_final_response()


async def test_the_final_response_answers_as_the_frameworks_response() -> None:
    context = echo_context(Agent(client=OfflineChatClient()))
    final: Any = await (await context.run_stream(echo_turn("hi", "k"))).get_final_response()
    assert isinstance(final.result, AgentResponse)
    assert final.messages[-1].text == "Echo: hi (turn 1)"
    assert final.to_dict() == final.result.to_dict()


def test_hosted_run_result_is_generic() -> None:
    typed: HostedRunResult[AgentResponse] = HostedRunResult(AgentResponse(messages=[]))
    assert typed.replace(session=None).session is None


# Workflow targets: the alpha's result shapes


async def test_a_workflow_turns_result_answers_get_outputs() -> None:
    result = await echo_context(build()).run(echo_turn("a", "alice"))
    assert isinstance(result.result, WorkflowTurnResponse)
    assert result.result.get_outputs() == ["a #1"]
    assert result.text == "a #1"


async def test_streamed_workflow_updates_carry_their_event_and_executor() -> None:
    stream = await echo_context(build()).run_stream(echo_turn("a", "alice"))
    updates = [update async for update in stream]
    assert [update.author_name for update in updates] == ["counter"]
    assert isinstance(updates[0].raw_representation, WorkflowEvent)
    final = (await stream.get_final_response()).result
    assert isinstance(final, WorkflowTurnResponse)
    assert final.get_outputs() == ["a #1"]


def counter_with(storage: Any) -> Workflow:
    return WorkflowBuilder(
        name="counter", start_executor=Counter(), checkpoint_storage=storage
    ).build()


async def test_a_workflow_keeps_its_own_checkpoint_storage(tmp_path: Path) -> None:
    storage = FileCheckpointStorage(str(tmp_path))
    await echo_context(counter_with(storage)).run(echo_turn("a", "alice"))
    again = echo_context(counter_with(FileCheckpointStorage(str(tmp_path))))
    assert (await again.run(echo_turn("b", "alice"))).text == "b #2"
    assert (await again.run(echo_turn("c", "bob"))).text == "c #1"


def test_a_workflows_own_storage_and_a_checkpoint_location_conflict(tmp_path: Path) -> None:
    workflow = counter_with(InMemoryCheckpointStorage())
    with pytest.raises(ValueError, match="its own checkpoint storage"):
        AgentFrameworkHost(workflow, channels=[EchoChannel()], checkpoint_location=tmp_path)


async def test_a_checkpoint_storage_is_a_checkpoint_location() -> None:
    storage = InMemoryCheckpointStorage()
    await echo_context(build(), checkpoint_location=storage).run(echo_turn("a", "alice"))
    again = echo_context(build(), checkpoint_location=storage)
    assert (await again.run(echo_turn("b", "alice"))).text == "b #2"
    assert (await again.run(echo_turn("c", "bob"))).text == "c #1"


async def test_an_alpha_checkpoint_directory_is_adopted_on_first_use(tmp_path: Path) -> None:
    # The alpha kept a conversation's checkpoints in <location>/<isolation key>/.
    await build().run("a", checkpoint_storage=FileCheckpointStorage(str(tmp_path / "alice")))
    context = echo_context(build(), checkpoint_location=tmp_path)
    assert (await context.run(echo_turn("b", "alice"))).text == "b #2"
    assert not (tmp_path / "alice").exists()


def test_a_checkpoint_location_for_an_agent_is_ignored_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="agent_framework.hosting"):
        AgentFrameworkHost(
            Agent(client=OfflineChatClient()),
            channels=[EchoChannel()],
            checkpoint_location=tmp_path,
        )
    assert "checkpoint_location is set but the target is an agent" in caplog.text


# Agent targets: what the agent is given


class RecordingAgent:
    """An agent that records what each run was given."""

    id = "recording"
    name = "recording"
    description = None

    def __init__(self) -> None:
        self.inputs: list[Any] = []
        self.sessions: list[AgentSession | None] = []

    def create_session(self, *, session_id: str | None = None) -> AgentSession:
        return AgentSession(session_id=session_id)

    async def run(
        self, messages: Any = None, *, session: AgentSession | None = None, **_: Any
    ) -> AgentResponse:
        self.inputs.append(messages)
        self.sessions.append(session)
        return AgentResponse(messages=[Message("assistant", ["done"])])


async def test_a_request_of_one_message_gives_the_agent_that_message() -> None:
    agent = RecordingAgent()
    await echo_context(agent).run(echo_turn("hi", "k"))
    assert isinstance(agent.inputs[0], Message)
    assert agent.inputs[0].text == "hi"


async def test_a_request_of_several_messages_gives_the_agent_a_list() -> None:
    agent = RecordingAgent()
    messages = [Message("user", ["one"]), Message("user", ["two"])]
    await echo_context(agent).run(echo_turn(messages, "k"))
    assert [message.text for message in agent.inputs[0]] == ["one", "two"]


async def test_a_disabled_session_mode_runs_the_agent_with_no_session() -> None:
    agent = RecordingAgent()
    request = dataclasses.replace(echo_turn("hi", "k"), session_mode="disabled")
    await echo_context(agent).run(request)
    assert agent.sessions == [None]


async def test_the_session_id_is_the_key_then_numbered_after_each_reset() -> None:
    agent = RecordingAgent()
    channel = EchoChannel()
    host = AgentFrameworkHost(cast("SupportsAgentRun", agent), channels=[channel])
    assert host.app is not None
    assert channel.context is not None
    await channel.context.run(echo_turn("a", "alice"))
    await host.areset_session("alice")
    await channel.context.run(echo_turn("b", "alice"))
    assert [session.session_id for session in agent.sessions if session] == ["alice", "alice#1"]


async def test_the_callers_message_is_not_changed_by_the_run() -> None:
    message = Message("user", ["hi"], additional_properties={"mine": 1})
    await echo_context(RecordingAgent()).run(echo_turn(message, "k"))
    assert message.additional_properties == {"mine": 1}


# Context providers: bind_request_context

_bound: contextvars.ContextVar[tuple[str, str | None] | None] = contextvars.ContextVar(
    "bound", default=None
)


class ChainingProvider(ContextProvider):
    """A provider that chains by response id, as platform history providers do."""

    def __init__(self) -> None:
        super().__init__("chaining")
        self.seen: list[tuple[str, str | None] | None] = []

    @contextmanager
    def bind_request_context(
        self, *, response_id: str, previous_response_id: str | None, **_: Any
    ) -> Generator[None]:
        token = _bound.set((response_id, previous_response_id))
        try:
            yield
        finally:
            _bound.reset(token)

    async def before_run(
        self,
        *,
        agent: SupportsAgentRun,
        session: AgentSession,
        context: SessionContext,
        state: dict[str, Any],
    ) -> None:
        self.seen.append(_bound.get())


@pytest.mark.parametrize("stream", [False, True])
async def test_context_providers_are_bound_to_the_requests_ids(stream: bool) -> None:
    provider = ChainingProvider()
    context = echo_context(Agent(client=OfflineChatClient(), context_providers=[provider]))
    ids = {"response_id": "resp_2", "previous_response_id": "resp_1"}
    request = dataclasses.replace(echo_turn("hi", "k"), attributes=ids)
    if stream:
        await (await context.run_stream(request)).get_final_response()
    else:
        await context.run(request)
    assert provider.seen == [("resp_2", "resp_1")]
    assert _bound.get() is None


async def test_context_providers_are_not_bound_without_a_response_id() -> None:
    provider = ChainingProvider()
    context = echo_context(Agent(client=OfflineChatClient(), context_providers=[provider]))
    await context.run(echo_turn("hi", "k"))
    assert provider.seen == [None]


# Isolation keys


def test_isolation_keys_are_none_outside_a_request() -> None:
    assert get_current_isolation_keys() is None


def test_a_trusted_front_ends_keys_are_current_in_any_route() -> None:
    host = alpha_host(
        Agent(client=OfflineChatClient()), AlphaStyleChannel(), **{"trust_isolation_headers": True}
    )
    headers = {"x-agent-user-isolation-key": "u1", "x-agent-chat-isolation-key": "c1"}
    with LoopbackServer(host.app) as server:
        keyed = httpx.get(f"{server.base_url}/alpha/whoami", headers=headers)
        bare = httpx.get(f"{server.base_url}/alpha/whoami")
    assert keyed.json() == {"user": "u1", "chat": "c1"}
    assert bare.json() is None


def test_an_untrusting_host_sets_no_keys_from_headers() -> None:
    host = alpha_host(Agent(client=OfflineChatClient()), AlphaStyleChannel())
    with LoopbackServer(host.app) as server:
        answer = httpx.get(
            f"{server.base_url}/alpha/whoami", headers={"x-agent-user-isolation-key": "u1"}
        )
    assert answer.json() is None


# Small surface


def test_an_identity_without_attributes_has_empty_ones() -> None:
    assert ChannelIdentity(channel="c", native_id="n").attributes == {}
    assert ChannelIdentity("c", "n", None).attributes == {}


def test_the_version_and_the_logger_are_exported() -> None:
    assert __version__.startswith("1.")
    assert logger.name == "agent_framework.hosting"
    assert IsolationKeys().is_empty


async def test_a_failing_shutdown_callback_is_raised_after_every_channel_stopped() -> None:
    stopped: list[str] = []

    async def stop() -> None:
        stopped.append("first")

    async def fail() -> None:
        stopped.append("second")
        raise RuntimeError("cannot stop")

    async def stop_too() -> None:
        stopped.append("second, after its failing callback")

    # Channels stop in reverse order: the failing one stops first, with more to stop.
    channels = [
        EchoChannel(name="first", path="/first", on_shutdown=[stop]),
        EchoChannel(name="second", path="/second", on_shutdown=[fail, stop_too]),
    ]
    app = AgentFrameworkHost(Agent(client=OfflineChatClient()), channels=channels).app
    with pytest.raises(RuntimeError, match="cannot stop"):
        async with app.router.lifespan_context(app):
            pass
    assert stopped == ["second", "second, after its failing callback", "first"]


async def test_a_workflow_turns_result_has_no_session() -> None:
    assert (await echo_context(build()).run(echo_turn("a", "alice"))).session is None

"""Running the target through a channel context: sessions, locks, hooks, stamping."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from agent_framework import (
    Agent,
    AgentContext,
    AgentResponse,
    AgentResponseUpdate,
    AgentSession,
    ChatContext,
    ChatMiddleware,
    Content,
    FileHistoryProvider,
    FunctionTool,
    Message,
    agent_middleware,
    tool,
)
from agent_framework_hosting import (
    ISOLATION_KEYS_ATTRIBUTE,
    AgentFrameworkHost,
    ChannelContext,
    ChannelIdentity,
    ChannelRequest,
    ChannelSession,
    HostedRunResult,
    IsolationKeys,
    get_current_isolation_keys,
    reset_current_isolation_keys,
    set_current_isolation_keys,
)
from agent_framework_hosting.testing import LoopbackServer, OfflineChatClient
from echo_channel import EchoChannel


def context_for(target: Any, **host_options: Any) -> tuple[AgentFrameworkHost, ChannelContext]:
    channel = EchoChannel(**host_options.pop("channel_options", {}))
    host = AgentFrameworkHost(target, channels=[channel], **host_options)
    assert host.app is not None
    assert channel.context is not None
    return host, channel.context


def turn(text: str, key: str | None = None, **fields: Any) -> ChannelRequest:
    session = ChannelSession(isolation_key=key) if key else None
    return ChannelRequest(
        channel="echo", operation="message.create", input=text, session=session, **fields
    )


async def test_same_key_shares_a_session_and_no_key_never_does() -> None:
    _, context = context_for(Agent(client=OfflineChatClient()))
    await context.run(turn("a", "k"))
    assert (await context.run(turn("b", "k"))).text == "Echo: b (turn 2)"
    await context.run(turn("c"))
    assert (await context.run(turn("d"))).text == "Echo: d (turn 1)"


async def test_disabled_session_mode_ignores_the_key() -> None:
    _, context = context_for(Agent(client=OfflineChatClient()))
    await context.run(turn("a", "k"))
    result = await context.run(turn("b", "k", session_mode="disabled"))
    assert result.text == "Echo: b (turn 1)"
    assert result.session is None


async def test_evicted_sessions_come_back_with_their_history() -> None:
    host, context = context_for(Agent(client=OfflineChatClient()), max_live_sessions=1)
    await context.run(turn("a1", "a"))
    await context.run(turn("b1", "b"))
    assert (await context.run(turn("a2", "a"))).text == "Echo: a2 (turn 2)"
    assert (await context.run(turn("b2", "b"))).text == "Echo: b2 (turn 2)"
    assert host._slots.live_count == 1  # pyright: ignore[reportPrivateUsage]


async def test_evicted_sessions_come_back_from_disk_snapshots(tmp_path: Any) -> None:
    _, context = context_for(
        Agent(client=OfflineChatClient()), max_live_sessions=1, state_dir=tmp_path
    )
    await context.run(turn("a1", "a"))
    await context.run(turn("b1", "b"))
    assert (await context.run(turn("a2", "a"))).text == "Echo: a2 (turn 2)"


class GatedAgent:
    """An agent whose runs wait for a gate, recording how many run at once."""

    id = "gated"
    name = "gated"
    description = None

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.running = 0
        self.peak = 0

    def create_session(self, *, session_id: str | None = None) -> AgentSession:
        return AgentSession(session_id=session_id)

    def get_session(
        self, service_session_id: Any, *, session_id: str | None = None
    ) -> AgentSession:
        return AgentSession(service_session_id=service_session_id, session_id=session_id)

    async def run(self, messages: Any = None, *, session: Any = None, **_: Any) -> AgentResponse:
        self.running += 1
        self.peak = max(self.peak, self.running)
        await self.gate.wait()
        self.running -= 1
        return AgentResponse(messages=[Message("assistant", ["done"])])


async def wait_until(predicate: Any) -> None:
    for _ in range(1000):
        if predicate():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never held")


async def test_different_keys_run_in_parallel() -> None:
    target = GatedAgent()
    _, context = context_for(target)
    runs = [asyncio.create_task(context.run(turn("x", key))) for key in ("a", "b")]
    await wait_until(lambda: target.running == 2)
    target.gate.set()
    await asyncio.gather(*runs)
    assert target.peak == 2


async def test_one_key_runs_one_turn_at_a_time() -> None:
    target = GatedAgent()
    _, context = context_for(target)
    runs = [asyncio.create_task(context.run(turn("x", "same"))) for _ in range(3)]
    await wait_until(lambda: target.running == 1)
    for _ in range(10):
        await asyncio.sleep(0)
    assert target.running == 1
    target.gate.set()
    await asyncio.gather(*runs)
    assert target.peak == 1


class ModelGate(ChatMiddleware):
    """Chat middleware that holds every model call until released."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def process(self, context: ChatContext, call_next: Callable[[], Awaitable[None]]) -> None:
        self.entered.set()
        await self.release.wait()
        await call_next()


async def test_reset_during_a_run_does_not_resurrect_the_old_session() -> None:
    gate = ModelGate()
    host, context = context_for(Agent(client=OfflineChatClient(middleware=[gate])))
    gate.release.set()
    await context.run(turn("one", "k"))
    gate.release.clear()
    gate.entered.clear()
    running = asyncio.create_task(context.run(turn("two", "k")))
    await gate.entered.wait()
    host.reset_session("k")
    gate.release.set()
    assert (await running).text == "Echo: two (turn 2)"
    assert (await context.run(turn("three", "k"))).text == "Echo: three (turn 1)"


@pytest.mark.parametrize("asynchronous", [False, True])
async def test_hooks_may_be_sync_or_async(asynchronous: bool) -> None:
    def rewrite(request: ChannelRequest, **_: Any) -> ChannelRequest:
        return dataclasses.replace(request, input="rewritten")

    def shout(result: HostedRunResult, **_: Any) -> HostedRunResult:
        loud = AgentResponse(messages=[Message("assistant", [result.text.upper()])])
        return result.replace(result=loud)

    async def async_rewrite(request: ChannelRequest, **kwargs: Any) -> ChannelRequest:
        return rewrite(request, **kwargs)

    async def async_shout(result: HostedRunResult, **kwargs: Any) -> HostedRunResult:
        return shout(result, **kwargs)

    hooks = {
        "run_hook": async_rewrite if asynchronous else rewrite,
        "response_hook": async_shout if asynchronous else shout,
    }
    _, context = context_for(Agent(client=OfflineChatClient()), channel_options=hooks)
    assert (await context.run(turn("original"))).text == "ECHO: REWRITTEN (TURN 1)"


async def test_a_run_hook_returning_the_wrong_type_fails_clearly() -> None:
    def wrong(request: ChannelRequest, **_: Any) -> None:
        return None

    _, context = context_for(Agent(client=OfflineChatClient()), channel_options={"run_hook": wrong})
    with pytest.raises(TypeError, match="run_hook of channel 'echo' must return a ChannelRequest"):
        await context.run(turn("x"))


async def test_stream_hook_drops_updates_but_the_final_result_stays_whole() -> None:
    def drop(update: AgentResponseUpdate) -> None:
        return None

    _, context = context_for(
        Agent(client=OfflineChatClient()), channel_options={"stream_update_hook": drop}
    )
    stream = await context.run_stream(turn("quiet please", "k"))
    assert [update async for update in stream] == []
    assert (await stream.get_final_response()).text == "Echo: quiet please (turn 1)"


async def test_closing_a_stream_early_releases_its_session() -> None:
    _, context = context_for(Agent(client=OfflineChatClient(chunks=8)))
    stream = await context.run_stream(turn("a b c d e f g h", "k"))
    async for _update in stream:
        break
    await stream.aclose()
    result = await asyncio.wait_for(context.run(turn("next", "k")), timeout=5)
    assert result.text.startswith("Echo: next")


def test_hosted_result_replace_distinguishes_none_from_omitted() -> None:
    session = AgentSession()
    result = HostedRunResult(AgentResponse(messages=[]), session=session)
    assert result.replace().session is session
    assert result.replace(session=None).session is None


async def test_host_stamps_channel_and_identity_on_the_last_message() -> None:
    client = OfflineChatClient()
    _, context = context_for(Agent(client=client))
    identity = ChannelIdentity(channel="echo", native_id="u1", attributes={"lang": "en"})
    await context.run(turn("who am i", identity=identity))
    stamped = client.last_messages[-1].additional_properties["hosting"]
    assert stamped == {
        "channel": "echo",
        "identity": {"channel": "echo", "native_id": "u1", "attributes": {"lang": "en"}},
    }


async def test_tools_see_the_trusted_isolation_keys_of_their_run() -> None:
    seen: list[IsolationKeys | None] = []

    @tool
    def whoami() -> str:
        """Report the caller's keys."""
        seen.append(get_current_isolation_keys())
        return "noted"

    _, context = context_for(Agent(client=OfflineChatClient(), tools=[whoami]))
    keys = IsolationKeys(user_key="u", chat_key="c")
    await context.run(turn("call whoami", attributes={ISOLATION_KEYS_ATTRIBUTE: keys}))
    assert seen == [keys]
    assert get_current_isolation_keys() is None


async def test_the_target_tool_names_are_the_names_the_framework_refuses_to_repeat() -> None:
    @tool
    def current_time() -> str:
        """Report the time."""
        return "noon"

    declared = {"type": "function", "name": "lookup", "parameters": {"type": "object"}}
    agent = Agent(client=OfflineChatClient(), tools=[current_time, declared])
    _, context = context_for(agent)
    assert context.target_tool_names == {"current_time", "lookup"}
    again = FunctionTool(name="current_time", description="", func=None, input_model={})
    with pytest.raises(ValueError, match="Duplicate tool name"):
        await context.run(turn("hi", options={"tools": [again]}))


def test_an_agent_without_tools_has_no_tool_names() -> None:
    _, context = context_for(Agent(client=OfflineChatClient()))
    assert context.target_tool_names == frozenset()


def test_isolation_keys_context_variable_round_trips() -> None:
    assert IsolationKeys().is_empty
    token = set_current_isolation_keys(IsolationKeys(user_key="u"))
    assert get_current_isolation_keys() == IsolationKeys(user_key="u")
    reset_current_isolation_keys(token)
    assert get_current_isolation_keys() is None


def test_untrusted_hosts_read_no_isolation_headers() -> None:
    headers = {"x-agent-user-isolation-key": "u", "x-agent-chat-isolation-key": "c"}
    _, untrusted = context_for(Agent(client=OfflineChatClient()))
    _, trusted = context_for(Agent(client=OfflineChatClient()), trust_isolation_headers=True)
    assert untrusted.isolation_keys(headers).is_empty
    assert trusted.isolation_keys(headers) == IsolationKeys(user_key="u", chat_key="c")


@pytest.mark.filterwarnings("ignore::agent_framework._feature_stage.ExperimentalWarning")
async def test_agents_with_their_own_history_provider_are_rehydrated_through_it(
    tmp_path: Any,
) -> None:
    def history_agent() -> Agent:
        provider = FileHistoryProvider(tmp_path / "history")
        return Agent(client=OfflineChatClient(), context_providers=[provider])

    _, context = context_for(history_agent(), max_live_sessions=1, state_dir=tmp_path / "state")
    await context.run(turn("a1", "a"))
    await context.run(turn("b1", "b"))
    assert (await context.run(turn("a2", "a"))).text == "Echo: a2 (turn 2)"
    _, restarted = context_for(history_agent(), state_dir=tmp_path / "state")
    assert (await restarted.run(turn("a3", "a"))).text == "Echo: a3 (turn 3)"


async def test_an_async_stream_hook_rewrites_each_update() -> None:
    async def shout(update: AgentResponseUpdate) -> AgentResponseUpdate:
        return AgentResponseUpdate(contents=[Content.from_text(update.text.upper())])

    _, context = context_for(
        Agent(client=OfflineChatClient()), channel_options={"stream_update_hook": shout}
    )
    stream = await context.run_stream(turn("quiet please", "k"))
    shown = [update.text async for update in stream]
    assert "".join(shown) == "ECHO: QUIET PLEASE (TURN 1)"
    assert (await stream.get_final_response()).text == "Echo: quiet please (turn 1)"


async def test_a_response_hook_returning_the_wrong_type_fails_clearly() -> None:
    def wrong(result: HostedRunResult, **_: Any) -> str:
        return result.text

    _, context = context_for(
        Agent(client=OfflineChatClient()), channel_options={"response_hook": wrong}
    )
    with pytest.raises(TypeError, match="response_hook of channel 'echo' must return"):
        await context.run(turn("x"))


@pytest.mark.parametrize("stream", [False, True])
def test_a_run_hook_returning_the_wrong_type_is_the_channels_error(stream: bool) -> None:
    def wrong(request: ChannelRequest, **_: Any) -> str:
        return "not a request"

    channel = EchoChannel(run_hook=wrong)
    host = AgentFrameworkHost(Agent(client=OfflineChatClient()), channels=[channel])
    with LoopbackServer(host.app) as server:
        response = httpx.post(f"{server.base_url}/echo", json={"text": "x", "stream": stream})
    if stream:
        assert response.text.splitlines() == ['{"error": "agent failed"}']
    else:
        assert response.status_code == 500
        assert response.json() == {"error": "agent failed"}


def test_hosted_result_replace_keeps_what_is_not_replaced() -> None:
    response = AgentResponse(messages=[Message("assistant", ["kept"])])
    result = HostedRunResult(response, session=AgentSession())
    replaced = result.replace(result=AgentResponse(messages=[Message("assistant", ["new"])]))
    assert replaced.session is result.session
    assert replaced.text == "new"
    assert result.text == "kept"


async def test_without_an_identity_only_the_channel_is_stamped() -> None:
    client = OfflineChatClient()
    _, context = context_for(Agent(client=client))
    await context.run(turn("anonymous"))
    assert client.last_messages[-1].additional_properties["hosting"] == {"channel": "echo"}


async def test_only_the_last_input_message_is_stamped() -> None:
    client = OfflineChatClient()
    _, context = context_for(Agent(client=client))
    messages = [Message("user", ["earlier"]), Message("user", ["latest"])]
    await context.run(dataclasses.replace(turn("unused"), input=messages))
    earlier, latest = client.last_messages[-2:]
    assert "hosting" not in (earlier.additional_properties or {})
    assert latest.additional_properties["hosting"]["channel"] == "echo"


async def test_the_agent_gets_copies_of_the_callers_input_messages() -> None:
    received: list[Message] = []

    @agent_middleware
    async def record(agent_context: AgentContext, call_next: Callable[[], Awaitable[None]]) -> None:
        received.extend(agent_context.messages)
        await call_next()

    _, context = context_for(Agent(client=OfflineChatClient(), middleware=[record]))
    messages = [
        Message("user", ["earlier"]),
        Message("user", ["latest"], additional_properties={"mine": 1}),
    ]
    before = [message.to_dict() for message in messages]
    await context.run(dataclasses.replace(turn("unused"), input=messages))
    assert [message.to_dict() for message in messages] == before
    for sent, given in zip(received, messages, strict=True):
        assert sent is not given
        assert sent.contents is not given.contents
        assert sent.additional_properties is not given.additional_properties
    assert received[-1].additional_properties == {"mine": 1, "hosting": {"channel": "echo"}}


async def test_tools_see_no_isolation_keys_when_the_channel_passed_none() -> None:
    seen: list[IsolationKeys | None] = []

    @tool
    def whoami() -> str:
        """Report the caller's keys."""
        seen.append(get_current_isolation_keys())
        return "noted"

    _, context = context_for(Agent(client=OfflineChatClient(), tools=[whoami]))
    await context.run(turn("call whoami"))
    assert seen == [None]


async def test_a_streamed_runs_tools_see_its_keys_but_its_consumer_does_not() -> None:
    seen: list[IsolationKeys | None] = []

    @tool
    def whoami() -> str:
        """Report the caller's keys."""
        seen.append(get_current_isolation_keys())
        return "noted"

    _, context = context_for(Agent(client=OfflineChatClient(), tools=[whoami]))
    keys = IsolationKeys(user_key="u", chat_key="c")
    stream = await context.run_stream(
        turn("call whoami", "k", attributes={ISOLATION_KEYS_ATTRIBUTE: keys})
    )
    consumer_saw = [get_current_isolation_keys() async for _update in stream]
    await stream.get_final_response()
    assert seen == [keys]
    assert consumer_saw
    assert all(observed is None for observed in consumer_saw)


async def test_an_abandoned_stream_releases_its_session_cleanly() -> None:
    errors: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, error: errors.append(error))
    _, context = context_for(Agent(client=OfflineChatClient(chunks=8)))
    keys = IsolationKeys(user_key="u")

    async def read_one_update() -> None:
        stream = await context.run_stream(
            turn("a b c d e f g h", "k", attributes={ISOLATION_KEYS_ATTRIBUTE: keys})
        )
        async for _update in stream:
            break

    await read_one_update()
    gc.collect()
    result = await context.run(turn("next", "k"))
    assert result.text.startswith("Echo: next")
    assert errors == []

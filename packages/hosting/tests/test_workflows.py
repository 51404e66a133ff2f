"""Workflow targets: a private instance and checkpoints per conversation."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from agent_framework import Executor, Workflow, WorkflowBuilder, WorkflowContext, handler
from agent_framework_hosting import ChannelRequest
from echo_channel import echo_context, echo_turn


class Gate:
    """Holds each turn open until released, counting the turns waiting at it."""

    def __init__(self) -> None:
        self.waiting = 0
        self.release = asyncio.Event()

    async def wait(self) -> None:
        self.waiting += 1
        await self.release.wait()


class Counter(Executor):
    """Counts the turns it has seen; an optional gate holds each turn open."""

    def __init__(self, gate: Gate | None = None) -> None:
        super().__init__(id="counter")
        self.count = 0
        self.gate = gate

    @handler
    async def count_turn(self, text: str, ctx: WorkflowContext[str, str]) -> None:
        self.count += 1
        if self.gate is not None:
            await self.gate.wait()
        await ctx.yield_output(f"{text} #{self.count}")

    async def on_checkpoint_save(self) -> dict[str, Any]:
        return {"count": self.count}

    async def on_checkpoint_restore(self, state: dict[str, Any]) -> None:
        self.count = state["count"]


def build(gate: Gate | None = None) -> Workflow:
    return WorkflowBuilder(name="counter", start_executor=Counter(gate)).build()


async def test_each_conversation_has_its_own_workflow_state() -> None:
    context = echo_context(build())
    await context.run(echo_turn("a", "alice"))
    assert (await context.run(echo_turn("b", "alice"))).text == "b #2"
    assert (await context.run(echo_turn("c", "bob"))).text == "c #1"


async def test_a_factory_target_works_too() -> None:
    context = echo_context(lambda: build())
    await context.run(echo_turn("a", "alice"))
    assert (await context.run(echo_turn("b", "alice"))).text == "b #2"


async def test_different_conversations_run_in_parallel() -> None:
    gate = Gate()
    context = echo_context(lambda: build(gate))
    runs = [asyncio.create_task(context.run(echo_turn("x", key))) for key in ("a", "b")]
    for _ in range(1000):
        if gate.waiting == 2:
            break
        await asyncio.sleep(0)
    assert gate.waiting == 2
    gate.release.set()
    assert [result.text for result in await asyncio.gather(*runs)] == ["x #1", "x #1"]


async def test_turns_of_one_conversation_are_serialized() -> None:
    gate = Gate()
    context = echo_context(lambda: build(gate))
    first = asyncio.create_task(context.run(echo_turn("first", "k")))
    for _ in range(1000):
        if gate.waiting == 1:
            break
        await asyncio.sleep(0)
    second = asyncio.create_task(context.run(echo_turn("second", "k")))
    for _ in range(50):
        await asyncio.sleep(0)
    assert gate.waiting == 1
    gate.release.set()
    results = await asyncio.gather(first, second)
    assert [result.text for result in results] == ["first #1", "second #2"]


async def test_workflow_outputs_stream_as_updates() -> None:
    context = echo_context(build())
    stream = await context.run_stream(echo_turn("streamed", "k"))
    assert [update.text async for update in stream] == ["streamed #1"]
    assert (await stream.get_final_response()).text == "streamed #1"


async def test_checkpoints_are_per_conversation_and_pruned(tmp_path: Path) -> None:
    context = echo_context(build(), checkpoint_location=tmp_path)
    for text in ("1", "2", "3", "4"):
        await context.run(echo_turn(text, "alice"))
    await context.run(echo_turn("1", "bob"))
    sizes = sorted(len(list(directory.iterdir())) for directory in tmp_path.iterdir())  # noqa: ASYNC240
    assert len(sizes) == 2
    assert all(0 < size <= 2 for size in sizes)


async def test_an_evicted_conversation_resumes_from_its_checkpoint(tmp_path: Path) -> None:
    context = echo_context(build(), checkpoint_location=tmp_path, max_live_sessions=1)
    await context.run(echo_turn("a", "alice"))
    await context.run(echo_turn("b", "bob"))
    assert (await context.run(echo_turn("c", "alice"))).text == "c #2"


async def test_a_new_host_on_the_same_state_dir_resumes_conversations(tmp_path: Path) -> None:
    await echo_context(build(), state_dir=tmp_path).run(echo_turn("a", "alice"))
    again = echo_context(build(), state_dir=tmp_path)
    assert (await again.run(echo_turn("b", "alice"))).text == "b #2"
    assert (tmp_path / "checkpoints").is_dir()


async def test_a_run_without_a_key_gets_a_fresh_workflow() -> None:
    context = echo_context(build())
    unkeyed = ChannelRequest(channel="echo", operation="message.create", input="x")
    await context.run(unkeyed)
    assert (await context.run(unkeyed)).text == "x #1"


async def test_the_shared_workflow_itself_is_never_run() -> None:
    workflow = build()
    context = echo_context(workflow)
    await context.run(echo_turn("a", "alice"))
    executor = workflow.get_start_executor()
    assert isinstance(executor, Counter)
    assert executor.count == 0


def test_a_workflow_brings_no_tools_of_its_own() -> None:
    assert echo_context(build()).target_tool_names == frozenset()

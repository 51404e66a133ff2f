"""The keep-alive relay: a stream's items relayed, each silence marked."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator

import pytest
from agent_framework_hosting import SSE_KEEPALIVE, with_keepalive

NEVER = 3600.0
"""An interval no test waits out: no silence is marked."""


async def test_the_items_are_relayed_in_order_until_the_stream_ends() -> None:
    async def items() -> AsyncIterator[int]:
        for item in (1, 2, 3):
            yield item

    assert [item async for item in with_keepalive(items(), NEVER)] == [1, 2, 3]


async def test_a_silence_is_marked_with_none_between_the_items() -> None:
    resumed = asyncio.Event()

    async def items() -> AsyncIterator[str]:
        yield "before"
        await resumed.wait()  # silent until the relay has marked the silence
        yield "after"

    relayed: list[str | None] = []
    async for item in with_keepalive(items(), 0.01):
        relayed.append(item)
        if item is None:
            resumed.set()
    assert relayed[0] == "before"
    assert relayed[-1] == "after"
    assert relayed[1:-1]
    assert all(mark is None for mark in relayed[1:-1])


async def test_the_streams_error_is_raised_after_the_items_before_it() -> None:
    async def items() -> AsyncIterator[int]:
        yield 1
        raise RuntimeError("the run failed")

    relay = with_keepalive(items(), NEVER)
    assert await anext(relay) == 1
    with pytest.raises(RuntimeError, match="the run failed"):
        await anext(relay)


async def test_closing_the_relay_stops_the_stream() -> None:
    stopped = asyncio.Event()

    async def items() -> AsyncIterator[int]:
        try:
            yield 1
            await asyncio.Event().wait()  # never set: only cancelling ends it
            yield 2
        finally:
            stopped.set()

    relay = with_keepalive(items(), NEVER)
    assert await anext(relay) == 1
    await relay.aclose()
    assert stopped.is_set()


async def test_the_stream_runs_in_one_task_so_its_context_holds() -> None:
    owner: contextvars.ContextVar[str] = contextvars.ContextVar("owner", default="nobody")

    async def items() -> AsyncIterator[str]:
        owner.set("the run")
        yield "set"
        yield owner.get()

    assert [item async for item in with_keepalive(items(), NEVER)] == ["set", "the run"]


def test_the_sse_keepalive_is_a_comment_frame() -> None:
    assert SSE_KEEPALIVE.startswith(b":")
    assert SSE_KEEPALIVE.endswith(b"\n\n")

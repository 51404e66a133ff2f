"""One test body for both SDK clients: parametrize with :data:`sync_and_async`.

A test takes ``kind``, gets its client from :func:`client_of`, and passes every SDK call
through :func:`done` (and pagers through :func:`listed`, streams through
:func:`final_of_stream`), so the strict sync and async clients run the same steps.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Collection
from typing import Any, TypeVar, cast

import pytest
from agent_framework_hosting.testing import LoopbackServer
from openai import AsyncOpenAI, OpenAI
from openai._base_client import AsyncPaginator
from openai.pagination import AsyncCursorPage, SyncCursorPage
from openai.types.responses import Response, ResponseStreamEvent

from ._clients import async_sdk, sdk

T = TypeVar("T")

SDKClient = OpenAI | AsyncOpenAI
"""Either strict SDK client."""

sync_and_async = pytest.mark.parametrize("kind", ["sync", "async"])
"""Run a test with the strict sync client and with the strict async one."""


def client_of(kind: str, server: LoopbackServer, *, user: str | None = None) -> SDKClient:
    """The strict ``"sync"`` or ``"async"`` client (``user``: the trusted user key)."""
    return sdk(server, user=user) if kind == "sync" else async_sdk(server, user=user)


async def done(value: Awaitable[T] | T) -> T:
    """What an SDK call returned: the async client's result awaited, the sync one's as is.

    A sync call blocks the test's event loop, which is fine: the server runs in a thread.
    """
    if inspect.isawaitable(value):
        return await cast("Awaitable[T]", value)
    return value


async def listed(pager: SyncCursorPage[T] | AsyncPaginator[T, AsyncCursorPage[T]]) -> list[T]:
    """Every item a pager walks to, page after page, with either client."""
    if isinstance(pager, SyncCursorPage):
        return list(pager)
    return [item async for item in pager]


async def reply(client: SDKClient, text: str, previous: str | None = None) -> Response:
    """A response to ``text``, continuing ``previous`` when given."""
    return await done(client.responses.create(model="m", input=text, previous_response_id=previous))


async def final_of_stream(client: SDKClient, **params: Any) -> Response:
    """``responses.stream(...)``'s final response, with either client."""
    if isinstance(client, OpenAI):
        with client.responses.stream(**params) as stream:
            return stream.get_final_response()
    async with client.responses.stream(**params) as stream:
        return await stream.get_final_response()


async def read_stream(client: SDKClient, events: list[ResponseStreamEvent], **params: Any) -> None:
    """Read ``responses.stream(...)`` to its end, appending each event to ``events``.

    When the stream raises, ``events`` holds what was read before.
    """
    if isinstance(client, OpenAI):
        with client.responses.stream(**params) as stream:
            for event in stream:
                events.append(event)
        return
    async with client.responses.stream(**params) as stream:
        async for event in stream:
            events.append(event)


async def wait_for(client: SDKClient, response_id: str, statuses: Collection[str]) -> Response:
    """Poll a stored response until its status is one of ``statuses`` (at most 500 polls)."""
    for _ in range(500):
        response = await done(client.responses.retrieve(response_id))
        if response.status in statuses:
            return response
        await asyncio.sleep(0.01)
    raise AssertionError(f"{response_id} never reached {set(statuses)}")

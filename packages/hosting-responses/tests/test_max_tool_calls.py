"""`max_tool_calls` is refused with a 400 that says why: it cannot be enforced exactly.

The SDK tests run with the strict sync and async clients.
"""

from __future__ import annotations

import openai
import pytest
from agent_framework import Agent
from agent_framework_hosting.testing import OfflineChatClient

from ._clients import post, serve
from ._sync_and_async import client_of, done, sync_and_async


@sync_and_async
async def test_a_tool_call_cap_is_a_400_and_the_agent_never_runs(kind: str) -> None:
    client = OfflineChatClient()
    with serve(agent=Agent(client=client)) as server:
        with pytest.raises(openai.BadRequestError) as caught:
            await done(
                client_of(kind, server).responses.create(model="m", input="x", max_tool_calls=3)
            )
        status, body = post(server, "/responses", {"input": "x", "max_tool_calls": 1})
    assert caught.value.code == "unsupported_parameter"
    assert "max_function_calls" in caught.value.message
    assert status == 400
    assert body["error"]["param"] == "max_tool_calls"
    assert client.calls == 0


@sync_and_async
async def test_a_null_cap_is_accepted_and_echoed_as_null(kind: str) -> None:
    with serve() as server:
        status, body = post(server, "/responses", {"input": "x", "max_tool_calls": None})
        response = await done(client_of(kind, server).responses.create(model="m", input="x"))
    assert status == 200
    assert body["max_tool_calls"] is None
    assert response.max_tool_calls is None

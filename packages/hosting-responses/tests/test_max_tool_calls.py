"""`max_tool_calls` is refused with a 400 that says why: it cannot be enforced exactly."""

from __future__ import annotations

import openai
import pytest
from agent_framework import Agent
from agent_framework_hosting.testing import OfflineChatClient

from ._clients import post, sdk, serve


def test_a_tool_call_cap_is_a_400_and_the_agent_never_runs() -> None:
    client = OfflineChatClient()
    with serve(agent=Agent(client=client)) as server:
        with pytest.raises(openai.BadRequestError) as caught:
            sdk(server).responses.create(model="m", input="x", max_tool_calls=3)
        status, body = post(server, "/responses", {"input": "x", "max_tool_calls": 1})
    assert caught.value.code == "unsupported_parameter"
    assert "max_function_calls" in caught.value.message
    assert status == 400
    assert body["error"]["param"] == "max_tool_calls"
    assert client.calls == 0


def test_a_null_cap_is_accepted_and_echoed_as_null() -> None:
    with serve() as server:
        status, body = post(server, "/responses", {"input": "x", "max_tool_calls": None})
        response = sdk(server).responses.create(model="m", input="x")
    assert status == 200
    assert body["max_tool_calls"] is None
    assert response.max_tool_calls is None

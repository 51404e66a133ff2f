"""Fields this server cannot honour are a 400 naming them, before the agent runs.

Their defaults are accepted: they ask for what happens anyway. The SDK tests run with the
strict sync and async clients.
"""

from __future__ import annotations

from typing import Any

import openai
import pytest
from agent_framework import Agent
from agent_framework_hosting.testing import OfflineChatClient

from ._clients import serve
from ._sync_and_async import client_of, done, sync_and_async


@sync_and_async
@pytest.mark.parametrize(
    ("fields", "param", "code"),
    [
        ({"tools": [{"type": "web_search"}]}, "tools[0].type", "unsupported_parameter"),
        ({"max_tool_calls": 2}, "max_tool_calls", "unsupported_parameter"),
        ({"prompt": {"id": "pmpt_1"}}, "prompt", "unsupported_parameter"),
        ({"include": ["message.output_text.logprobs"]}, "include", "unsupported_parameter"),
        ({"include": ["message.input_image.image_url"]}, "include", "unsupported_parameter"),
        ({"reasoning": {"effort": "low"}}, "reasoning", "unsupported_parameter"),
        ({"truncation": "auto"}, "truncation", "unsupported_parameter"),
        ({"top_logprobs": 2}, "top_logprobs", "unsupported_parameter"),
        ({"text": {"format": {"type": "json_object"}}}, "text", "unsupported_parameter"),
        (
            {"text": {"format": {"type": "json_schema", "name": "a", "schema": {}}}},
            "text",
            "unsupported_parameter",
        ),
        ({"text": {"verbosity": "low"}}, "text", "unsupported_parameter"),
        ({"background": True, "store": False}, "store", "invalid_value"),
        (
            {"context_management": [{"type": "compaction"}]},
            "context_management",
            "unknown_parameter",
        ),
        ({"prompt_cache_retention": "24h"}, "prompt_cache_retention", "unknown_parameter"),
    ],
)
async def test_a_field_that_cannot_be_honoured_is_a_400_naming_it(
    kind: str, fields: dict[str, Any], param: str, code: str
) -> None:
    chat = OfflineChatClient()
    with serve(agent=Agent(client=chat)) as server:
        client = client_of(kind, server)
        with pytest.raises(openai.BadRequestError) as caught:
            await done(client.responses.create(model="m", input="x", **fields))
    assert (caught.value.param, caught.value.code) == (param, code)
    assert chat.calls == 0


@sync_and_async
@pytest.mark.parametrize(
    "fields",
    [
        {"include": []},
        {"reasoning": None},
        {"truncation": "disabled"},
        {"top_logprobs": 0},
        {"text": {}},
        {"text": {"format": {"type": "text"}}},
        {"max_tool_calls": None},
        {"prompt": None},
    ],
)
async def test_the_default_of_a_refused_field_is_accepted(
    kind: str, fields: dict[str, Any]
) -> None:
    with serve() as server:
        client = client_of(kind, server)
        response = await done(client.responses.create(model="m", input="x", **fields))
    assert response.output_text == "Echo: x (turn 1)"

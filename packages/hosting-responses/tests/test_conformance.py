"""The Responses channel held to the core conformance kit."""

from __future__ import annotations

import json

import httpx
from agent_framework_hosting import Channel, IsolationKeys
from agent_framework_hosting.testing import (
    ChannelConformanceTests,
    ChannelHooks,
    ChannelReply,
    RunningHost,
)
from agent_framework_hosting_redis.testing import OnRedis
from agent_framework_hosting_responses import ResponsesChannel, responses_isolation_key

CHAT_HEADER = "x-agent-chat-isolation-key"


class TestResponsesConformance(ChannelConformanceTests):
    trust_isolation_headers = True

    def build_channel(self, hooks: ChannelHooks) -> Channel:
        return ResponsesChannel(
            run_hook=hooks.run_hook,
            response_hook=hooks.response_hook,
            stream_update_hook=hooks.stream_update_hook,
        )

    def isolation_key(self, conversation: str) -> str:
        return responses_isolation_key(IsolationKeys(chat_key=conversation))

    async def send_turn(
        self, running: RunningHost, text: str, *, conversation: str, stream: bool = False
    ) -> ChannelReply:
        body = {"model": "agent", "input": text, "stream": stream}
        headers = {CHAT_HEADER: conversation}
        if not stream:
            response = await running.client.post("/responses", json=body, headers=headers)
            if response.status_code != 200:
                return ChannelReply("", True, response.status_code, response.text)
            return ChannelReply(_output_text(response.json()), raw=response.text)
        async with running.client.stream(
            "POST", "/responses", json=body, headers=headers
        ) as response:
            raw = (await response.aread()).decode()
        events = [
            json.loads(line[len("data: ") :])
            for line in raw.splitlines()
            if line.startswith("data: {")
        ]
        deltas = [e["delta"] for e in events if e["type"] == "response.output_text.delta"]
        final = events[-1] if events else {}
        failed = final.get("type") != "response.completed"
        text = "" if failed else _output_text(final["response"])
        return ChannelReply(text, failed, response.status_code, raw, deltas)

    async def send_bad_inputs(self, running: RunningHost) -> list[httpx.Response]:
        post = running.client.post
        return [
            await post("/responses", content=b"{not json"),
            await post("/responses", json=["a list"]),
            await post("/responses", json={"model": "agent"}),
            await post("/responses", json={"input": 42}),
            await post(
                "/responses", json={"input": [{"role": "user", "content": [{"type": "x"}]}]}
            ),
            await post("/responses", json={"input": "hi", "stream": "yes"}),
        ]


def _output_text(response: dict[str, object]) -> str:
    output = response["output"]
    assert isinstance(output, list)
    return "".join(
        part["text"]
        for item in output
        if isinstance(item, dict) and item.get("type") == "message"
        for part in item["content"]
        if part.get("type") == "output_text"
    )


class TestResponsesConformanceOnRedis(OnRedis, TestResponsesConformance):
    """The same kit with the host's state in Redis (a replica's view of it)."""

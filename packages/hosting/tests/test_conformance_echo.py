"""The conformance kit run against the minimal echo channel: the kit itself works."""

from __future__ import annotations

import json

import httpx
from agent_framework_hosting import Channel
from agent_framework_hosting.testing import (
    ChannelConformanceTests,
    ChannelHooks,
    ChannelReply,
    RunningHost,
)
from echo_channel import EchoChannel


class TestEchoChannelConformance(ChannelConformanceTests):
    def build_channel(self, hooks: ChannelHooks) -> Channel:
        return EchoChannel(
            run_hook=hooks.run_hook,
            response_hook=hooks.response_hook,
            stream_update_hook=hooks.stream_update_hook,
        )

    def isolation_key(self, conversation: str) -> str:
        return f"echo:{conversation}"

    async def send_turn(
        self, running: RunningHost, text: str, *, conversation: str, stream: bool = False
    ) -> ChannelReply:
        body = {"text": text, "key": self.isolation_key(conversation), "stream": stream}
        response = await running.client.post("/echo", json=body)
        if not stream:
            if response.status_code != 200:
                return ChannelReply("", True, response.status_code, response.text)
            return ChannelReply(response.json()["text"], raw=response.text)
        lines = [json.loads(line) for line in response.text.splitlines()]
        deltas = [line["delta"] for line in lines if "delta" in line]
        final = lines[-1]
        if "error" in final:
            return ChannelReply("", True, response.status_code, response.text, deltas)
        return ChannelReply(final["final"], False, response.status_code, response.text, deltas)

    async def send_bad_inputs(self, running: RunningHost) -> list[httpx.Response]:
        return [
            await running.client.post("/echo", content=b"{oops"),
            await running.client.post("/echo", json={"text": ""}),
            await running.client.post("/echo", json={"nothing": 1}),
            await running.client.post("/echo", json=["not", "an", "object"]),
            await running.client.post("/echo/command", content=b"not json"),
        ]

"""The AG-UI channel held to the core conformance kit."""

from __future__ import annotations

import uuid

import httpx
from ag_ui.core import MessagesSnapshotEvent, TextMessageContentEvent
from agent_framework_hosting import Channel
from agent_framework_hosting.testing import (
    ChannelConformanceTests,
    ChannelHooks,
    ChannelReply,
    RunningHost,
)
from agent_framework_hosting_ag_ui import AGUIChannel, ag_ui_isolation_key

from ._agui import post_run, run_input, user_message


class TestAGUIConformance(ChannelConformanceTests):
    always_streams = True

    def build_channel(self, hooks: ChannelHooks) -> Channel:
        return AGUIChannel(
            run_hook=hooks.run_hook,
            response_hook=hooks.response_hook,
            stream_update_hook=hooks.stream_update_hook,
        )

    def isolation_key(self, conversation: str) -> str:
        return ag_ui_isolation_key(conversation)

    async def send_turn(
        self, running: RunningHost, text: str, *, conversation: str, stream: bool = False
    ) -> ChannelReply:
        sent = user_message(text)
        answer = await post_run(running.client, run_input(conversation, sent))
        if answer.status != 200:
            return ChannelReply("", True, answer.status, answer.raw)
        deltas = [event.delta for event in answer.of(TextMessageContentEvent)]
        reply = "".join(deltas)
        for snapshot in answer.of(MessagesSnapshotEvent):  # what the thread keeps, hooked
            ids = [message.id for message in snapshot.messages]
            after = snapshot.messages[ids.index(sent["id"]) + 1 :]
            reply = "".join(m.content or "" for m in after if m.role == "assistant")
        return ChannelReply(reply, answer.error is not None, answer.status, answer.raw, deltas)

    async def send_bad_inputs(self, running: RunningHost) -> list[httpx.Response]:
        post = running.client.post
        thread = f"bad-{uuid.uuid4()}"
        image = {
            "type": "image",
            "source": {"type": "data", "value": "%%%", "mimeType": "image/png"},
        }
        return [
            await post("/ag-ui", content=b"{not json"),
            await post("/ag-ui", json=["not", "an", "object"]),
            await post("/ag-ui", json={"runId": "r", "messages": []}),
            await post("/ag-ui", json=run_input(thread)),
            await post("/ag-ui", json=run_input("", user_message("hi"))),
            await post(
                "/ag-ui", json=run_input(thread, {"id": "m", "role": "robot", "content": "x"})
            ),
            await post(
                "/ag-ui", json=run_input(thread, {"id": "m", "role": "user", "content": [image]})
            ),
            await post("/ag-ui", json=run_input(thread, user_message("hi"), state=[1, 2])),
            await post(
                "/ag-ui",
                json=run_input(
                    thread,
                    user_message("hi"),
                    tools=[{"name": "x", "description": ""}, {"name": "x", "description": ""}],
                ),
            ),
            await post("/ag-ui", content=b"[" * 200 + b"]" * 200),
            await running.client.get("/ag-ui/runs/unknown-run"),
            await running.client.get("/ag-ui/threads/unknown-thread"),
            await running.client.get("/ag-ui/runs/r", headers={"Last-Event-ID": "x"}),
        ]

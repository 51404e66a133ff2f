"""The A2A channel held to the core conformance kit, over JSON-RPC with plain HTTP."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
from agent_framework_hosting import Channel
from agent_framework_hosting.testing import (
    ChannelConformanceTests,
    ChannelHooks,
    ChannelReply,
    RunningHost,
)
from agent_framework_hosting_a2a import A2AChannel, a2a_isolation_key


def _call(method: str, params: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}


def _message(text: str, conversation: str) -> dict[str, Any]:
    return {
        "message": {
            "messageId": uuid.uuid4().hex,
            "role": "ROLE_USER",
            "contextId": conversation,
            "parts": [{"text": text}],
        }
    }


def _text(task: dict[str, Any]) -> str:
    return "".join(
        part.get("text", "") for artifact in task.get("artifacts", []) for part in artifact["parts"]
    )


class TestA2AConformance(ChannelConformanceTests):
    def build_channel(self, hooks: ChannelHooks) -> Channel:
        return A2AChannel(
            run_hook=hooks.run_hook,
            response_hook=hooks.response_hook,
            stream_update_hook=hooks.stream_update_hook,
        )

    def isolation_key(self, conversation: str) -> str:
        return a2a_isolation_key("", conversation)

    async def send_turn(
        self, running: RunningHost, text: str, *, conversation: str, stream: bool = False
    ) -> ChannelReply:
        if not stream:
            response = await running.client.post(
                "/a2a", json=_call("SendMessage", _message(text, conversation)), timeout=30
            )
            body = response.json()
            if response.status_code != 200 or "error" in body:
                return ChannelReply("", True, response.status_code, response.text)
            task = body["result"]["task"]
            failed = task["status"]["state"] != "TASK_STATE_COMPLETED"
            return ChannelReply(_text(task), failed, raw=response.text)
        call = _call("SendStreamingMessage", _message(text, conversation))
        async with running.client.stream("POST", "/a2a", json=call, timeout=30) as response:
            raw = (await response.aread()).decode()
        events = [
            json.loads(line[len("data: ") :])["result"]
            for line in raw.splitlines()
            if line.startswith("data: ")
        ]
        task: dict[str, Any] = {"artifacts": []}
        deltas: list[str] = []
        state = ""
        for event in events:
            if "task" in event:
                task = event["task"]
            elif "artifactUpdate" in event:
                update = event["artifactUpdate"]
                chunk = "".join(part.get("text", "") for part in update["artifact"]["parts"])
                whole = not update.get("append") and update.get("lastChunk")
                if not whole:
                    deltas.append(chunk)
                artifacts = [
                    a
                    for a in task.get("artifacts", [])
                    if a["artifactId"] != update["artifact"]["artifactId"]
                ]
                previous = [
                    a
                    for a in task.get("artifacts", [])
                    if a["artifactId"] == update["artifact"]["artifactId"]
                ]
                if update.get("append") and previous:
                    previous[0]["parts"].extend(update["artifact"]["parts"])
                    artifacts.append(previous[0])
                else:
                    artifacts.append(update["artifact"])
                task["artifacts"] = artifacts
            elif "statusUpdate" in event:
                state = event["statusUpdate"]["status"]["state"]
        failed = state != "TASK_STATE_COMPLETED"
        return ChannelReply(_text(task), failed, response.status_code, raw, deltas)

    async def send_bad_inputs(self, running: RunningHost) -> list[httpx.Response]:
        post = running.client.post
        return [
            await post("/a2a", content=b"{not json"),
            await post("/a2a", json=["a", "batch"]),
            await post("/a2a", json={"jsonrpc": "1.0", "method": "SendMessage", "id": 1}),
            await post("/a2a", json={"jsonrpc": "2.0", "id": 1}),
            await post("/a2a", content=b"{}", headers={"content-type": "text/plain"}),
            await post("/a2a/message:send", content=b"[1, 2]"),
            await post("/a2a/message:send", json={"message": {"role": "ROLE_USER"}}),
            await post("/a2a/message:send", json={"message": {"parts": "not a list"}}),
            await running.client.get("/a2a/tasks/no-such-task"),
            await running.client.get("/a2a/tasks", params={"pageSize": "1000"}),
        ]

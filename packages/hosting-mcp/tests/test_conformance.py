"""The MCP channel held to the core conformance kit, through the SDK's own client."""

from __future__ import annotations

import httpx
from agent_framework_hosting.testing import (
    ChannelConformanceTests,
    ChannelHooks,
    ChannelReply,
    RunningHost,
)
from agent_framework_hosting_mcp import MCPChannel
from mcp_harness import connect, text_of

ACCEPT = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


class TestMCPConformance(ChannelConformanceTests):
    def build_channel(self, hooks: ChannelHooks) -> MCPChannel:
        return MCPChannel(
            run_hook=hooks.run_hook,
            response_hook=hooks.response_hook,
            stream_update_hook=hooks.stream_update_hook,
            progress_interval=0,
        )

    def isolation_key(self, conversation: str) -> str:
        return f"mcp::conversation:{conversation}"

    async def send_turn(
        self, running: RunningHost, text: str, *, conversation: str, stream: bool = False
    ) -> ChannelReply:
        deltas: list[str] = []

        async def progress(progress: float, total: float | None, message: str | None) -> None:
            deltas.append(message or "")

        async with connect(running.base_url + "/mcp") as session:
            result = await session.call_tool(
                "conformance",
                {"message": text, "conversation_id": conversation},
                progress_callback=progress if stream else None,
            )
        return ChannelReply(
            text_of(result),
            is_error=bool(result.is_error),
            raw=result.model_dump_json() + "".join(deltas),
            deltas=deltas,
        )

    async def send_bad_inputs(self, running: RunningHost) -> list[httpx.Response]:
        post = running.client.post
        return [
            await post("/mcp", content=b"{not json", headers=ACCEPT),
            await post("/mcp", content=b'{"jsonrpc": "2.0", "id": 1, "method": 5}', headers=ACCEPT),
            await post("/mcp", content=b'{"x": NaN}', headers=ACCEPT),
            await post("/mcp", content=b"{}", headers={**ACCEPT, "content-type": "text/plain"}),
            await post(
                "/mcp",
                json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                headers={**ACCEPT, "mcp-session-id": "unknown"},
            ),
            await running.client.get("/mcp", headers={"accept": "application/json"}),
        ]

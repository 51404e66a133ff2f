"""The MCP channel held to the core conformance kit, through the SDK's own client."""

from __future__ import annotations

import httpx
import httpx2
from agent_framework_hosting.testing import (
    ChannelConformanceTests,
    ChannelHooks,
    ChannelReply,
    RunningHost,
)
from agent_framework_hosting_mcp import MCPChannel
from mcp.shared.exceptions import MCPError
from mcp_harness import connect, text_of
from mcp_types import CallToolResult

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
        refusals: list[httpx2.Response] = []

        async def progress(progress: float, total: float | None, message: str | None) -> None:
            deltas.append(message or "")

        async def record_refusal(response: httpx2.Response) -> None:
            if response.status_code >= 400:  # an answer of a refused request is short
                await response.aread()
                refusals.append(response)

        headers = self.credential_headers(running.credential) if running.credential else {}
        result: CallToolResult | None = None
        try:
            async with connect(
                running.base_url + "/mcp", headers=headers, on_response=record_refusal
            ) as session:
                result = await session.call_tool(
                    "conformance",
                    {"message": text, "conversation_id": conversation},
                    progress_callback=progress if stream else None,
                )
        except* MCPError:  # the SDK raises the JSON-RPC error a refused request carried
            pass
        if result is None:
            assert refusals, "the SDK raised an error no HTTP refusal carried"
            return ChannelReply(
                refusals[0].json()["error"]["message"],
                is_error=True,
                status_code=refusals[0].status_code,
                raw="".join(response.text for response in refusals),
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

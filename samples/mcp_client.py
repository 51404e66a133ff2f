"""Call the quickstart's MCP server with the MCP SDK's ClientSession.

Lists the tools, talks to the agent over two turns of one session (the offline agent
counts them), watches a reply stream in as progress notifications, continues a named
conversation from a second session, and starts the session's conversation over.

    uv run samples/quickstart.py
    uv run samples/mcp_client.py           # in another terminal
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client


def text_of(result: Any) -> str:
    return "".join(block.text for block in result.content if block.type == "text")


async def progress(progress: float, total: float | None, message: str | None) -> None:
    print(message or "", end="", flush=True)


async def main() -> None:
    url = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/mcp"
    async with (
        streamable_http_client(url) as (read, write),
        ClientSession(read, write) as session,
    ):
        initialized = await session.initialize()
        tools = [tool.name for tool in (await session.list_tools()).tools]
        print(f"[server] {initialized.server_info.name}; tools: {', '.join(tools)}")
        agent = tools[0]
        first = await session.call_tool(agent, {"message": "Hello over MCP"})
        print(f"[call] {text_of(first)}")
        second = await session.call_tool(agent, {"message": "And again"})
        print(f"[call] {text_of(second)}")
        print("[progress] ", end="", flush=True)
        streamed = await session.call_tool(
            agent, {"message": "Stream this reply"}, progress_callback=progress
        )
        print(f"\n[result] {text_of(streamed)}")
        await session.call_tool(agent, {"message": "Remember me", "conversation_id": "notes"})
        reset = await session.call_tool("reset", {})
        print(f"[reset] {text_of(reset)}")
        after = await session.call_tool(agent, {"message": "Fresh start"})
        print(f"[call] {text_of(after)}")
    async with (
        streamable_http_client(url) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        named = await session.call_tool(
            agent, {"message": "Back again", "conversation_id": "notes"}
        )
        print(f"[conversation] {text_of(named)}")


if __name__ == "__main__":
    asyncio.run(main())

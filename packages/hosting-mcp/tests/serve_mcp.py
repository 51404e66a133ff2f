"""Serve the MCP channel in a process of its own: ``python serve_mcp.py`` (port 0, printed).

``STATE_DIR`` (durable state), ``DELAY`` and ``CHUNKS`` (the offline client's pace) and
``LEASE`` (seconds a silent call's process keeps it) configure it.
"""

from __future__ import annotations

import os

from agent_framework import Agent
from agent_framework_hosting import AgentFrameworkHost
from agent_framework_hosting.testing import OfflineChatClient
from agent_framework_hosting_mcp import MCPChannel

if __name__ == "__main__":
    client = OfflineChatClient(
        delay=float(os.environ.get("DELAY", "0")), chunks=int(os.environ.get("CHUNKS", "4"))
    )
    host = AgentFrameworkHost(
        Agent(client=client, name="helper"),
        channels=[
            MCPChannel(progress_interval=0, lease_seconds=float(os.environ.get("LEASE", "10")))
        ],
        state_dir=os.environ.get("STATE_DIR") or None,
    )
    host.serve(host="127.0.0.1", port=0, access_log=False)

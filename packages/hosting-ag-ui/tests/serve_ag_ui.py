"""Serve the AG-UI channel in a process of its own, configured by the environment.

``python serve_ag_ui.py`` with ``STATE_DIR`` (durable state, shared by processes),
``DELAY`` and ``CHUNKS`` (the offline client's pace) and ``LEASE`` (run lease seconds);
it serves on a free port and prints its URL.
"""

from __future__ import annotations

import os

from agent_framework import Agent
from agent_framework_hosting import AgentFrameworkHost
from agent_framework_hosting.testing import OfflineChatClient
from agent_framework_hosting_ag_ui import AGUIChannel

if __name__ == "__main__":
    client = OfflineChatClient(
        delay=float(os.environ.get("DELAY", "0")), chunks=int(os.environ.get("CHUNKS", "4"))
    )
    channel = AGUIChannel(
        run_lease_seconds=float(os.environ.get("LEASE", "15")), keepalive_seconds=0.3
    )
    host = AgentFrameworkHost(
        Agent(client=client), channels=[channel], state_dir=os.environ["STATE_DIR"]
    )
    host.serve(host="127.0.0.1", port=0, access_log=False)

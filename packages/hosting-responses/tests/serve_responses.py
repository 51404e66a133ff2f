"""Serve the Responses channel in a process of its own, configured by the environment.

``python serve_responses.py PORT`` with ``STATE_DIR`` (durable state), ``DELAY`` and
``CHUNKS`` (the offline client's pace), ``LEASE`` (background lease seconds) and
``KEEPALIVE`` (seconds between keep-alives). Also importable: ``serve_responses:app``
for an ASGI server with several workers.
"""

from __future__ import annotations

import os
import sys

from agent_framework import Agent
from agent_framework_hosting import AgentFrameworkHost
from agent_framework_hosting.testing import OfflineChatClient
from agent_framework_hosting_responses import ResponsesChannel


def build_host() -> AgentFrameworkHost:
    agent = Agent(
        client=OfflineChatClient(
            delay=float(os.environ.get("DELAY", "0")), chunks=int(os.environ.get("CHUNKS", "1"))
        )
    )
    channel = ResponsesChannel(
        background_lease_seconds=float(os.environ.get("LEASE", "15")),
        keepalive_seconds=float(os.environ.get("KEEPALIVE", "15")),
    )
    return AgentFrameworkHost(
        agent,
        channels=[channel],
        state_dir=os.environ.get("STATE_DIR") or None,
        trust_isolation_headers=True,
    )


if __name__ == "__main__":
    build_host().serve(host="127.0.0.1", port=int(sys.argv[1]), access_log=False)
else:
    app = build_host().app

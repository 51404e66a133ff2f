"""Serve the echo channel with durable state: ``STATE_DIR=... python serve_echo.py PORT``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from agent_framework import Agent
from agent_framework_hosting import AgentFrameworkHost
from agent_framework_hosting.testing import OfflineChatClient
from echo_channel import EchoChannel

if __name__ == "__main__":
    host = AgentFrameworkHost(
        Agent(client=OfflineChatClient()),
        channels=[EchoChannel()],
        state_dir=os.environ["STATE_DIR"],
    )
    host.serve(host="127.0.0.1", port=int(sys.argv[1]))

"""A host with the Responses channel in a process of its own, configured by the environment.

``python serve_host.py PORT`` (``0``: a port it picks and prints) with ``STATE_DIR``
(durable state on disk) or ``REDIS_URL`` and ``REDIS_PREFIX`` (state in Redis: one of
several replicas), ``DELAY`` and ``CHUNKS`` (the offline client's pace), ``LEASE``
(background lease seconds), ``KEEPALIVE`` (seconds between keep-alives) and ``TARGET``
(``review``: the review workflow instead of the offline agent). Also
importable as ``serve_host:app`` for an ASGI server running several workers.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from agent_framework import Agent
from agent_framework_hosting import AgentFrameworkHost
from agent_framework_hosting.testing import OfflineChatClient, review_workflow
from agent_framework_hosting_redis import RedisStateStore
from agent_framework_hosting_responses import ResponsesChannel


def build_host() -> AgentFrameworkHost:
    target: Any = Agent(
        client=OfflineChatClient(
            delay=float(os.environ.get("DELAY", "0")), chunks=int(os.environ.get("CHUNKS", "1"))
        )
    )
    channel = ResponsesChannel(
        background_lease_seconds=float(os.environ.get("LEASE", "15")),
        keepalive_seconds=float(os.environ.get("KEEPALIVE", "15")),
    )
    redis_url = os.environ.get("REDIS_URL")
    store = (
        RedisStateStore.from_url(redis_url, prefix=os.environ["REDIS_PREFIX"])
        if redis_url
        else None
    )
    if os.environ.get("TARGET") == "review":
        target = review_workflow
    return AgentFrameworkHost(
        target,
        channels=[channel],
        state_dir=os.environ.get("STATE_DIR") or None,
        state_store=store,
        trust_isolation_headers=True,
    )


if __name__ == "__main__":
    build_host().serve(host="127.0.0.1", port=int(sys.argv[1]), access_log=False)
else:
    app = build_host().app

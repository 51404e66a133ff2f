"""The AG-UI TypeScript client (``@ag-ui/client`` from npm) against the channel, run with node.

The client checks the event stream itself (its order, every event's shape) and builds
its messages from it; a check that breaks the protocol fails in the client.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from typing import Any

from agent_framework import Agent, Workflow
from agent_framework_hosting import AgentFrameworkHost
from agent_framework_hosting.testing import LoopbackServer, OfflineChatClient, review_workflow
from agent_framework_hosting_ag_ui import AGUIChannel

from ._environment import NODE_DIR, require_node_client

LONG = " ".join(f"w{n}" for n in range(30))


def run_check(name: str, target: Agent | Callable[[], Workflow], *extra: str) -> dict[str, Any]:
    node = require_node_client()
    host = AgentFrameworkHost(target, channels=[AGUIChannel()])
    with LoopbackServer(host.app) as server:
        done = subprocess.run(
            [node, "checks.mjs", name, f"{server.base_url}/ag-ui", *extra],
            cwd=NODE_DIR,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def agent(**options: Any) -> Agent:
    return Agent(client=OfflineChatClient(**options), name="ts")


def test_the_client_follows_a_turn_and_continues_the_thread() -> None:
    result = run_check("turns", agent())
    assert result["types"][0] == "RUN_STARTED"
    assert result["types"][-1] == "RUN_FINISHED"
    assert result["first"] == "Echo: hello (turn 1)"
    assert result["second"] == "Echo: again (turn 2)"
    assert result["roles"] == ["user", "assistant", "user", "assistant"]


def test_the_client_runs_its_own_tool_and_the_agent_reads_the_result() -> None:
    result = run_check("tools", agent())
    assert result["call"] == "pick_color"
    assert len(result["pending"]) == 1
    assert result["reply"] == "Tool pick_color returned: green"


def test_the_client_answers_a_workflows_interrupt_with_resume() -> None:
    result = run_check("interrupt", lambda: review_workflow())
    [interrupt] = result["interrupts"]
    assert interrupt["reason"] == "input_required"
    assert interrupt["metadata"]["request"]["type"] == "ReviewRequest"
    assert result["reply"] == "Approved by reviewer 1: Draft 1: essay"
    assert result["pendingAfter"] == 0


def test_a_new_client_connects_to_a_run_another_left_and_gets_all_of_it() -> None:
    result = run_check("reconnect", agent(delay=0.05, chunks=30), LONG)
    assert result["partial"] != result["complete"]
    assert result["complete"] == f"Echo: {LONG} (turn 1)"
    assert result["types"][0] == "RUN_STARTED"
    assert result["types"][-1] == "RUN_FINISHED"
    assert result["roles"] == ["user", "assistant"]


def test_an_agent_failure_reaches_the_client_as_run_error() -> None:
    result = run_check("failure", agent(error=RuntimeError("internal-detail-7f3a")))
    assert result["error"] == {"message": "The agent failed to answer.", "code": "agent_failed"}


def test_bad_input_reaches_the_client_as_a_400_with_the_error_event() -> None:
    result = run_check("refused", agent())
    assert result["status"] == 400
    assert result["payload"]["type"] == "RUN_ERROR"

"""Serve a workflow: each conversation gets its own instance and its own checkpoints.

    uv run samples/workflow_host.py          # PORT (default 8000), STATE_DIR (default ./.state)

Each turn counts the turns of its own conversation; after a restart with the same
STATE_DIR, a conversation resumes from its latest checkpoint.
"""

from __future__ import annotations

import os
from typing import Any

from agent_framework import Executor, Workflow, WorkflowBuilder, WorkflowContext, handler
from agent_framework_hosting import AgentFrameworkHost
from agent_framework_hosting_responses import ResponsesChannel


class TurnCounter(Executor):
    """Answers with the conversation's turn number; its count survives checkpoints."""

    def __init__(self) -> None:
        super().__init__(id="turn_counter")
        self.turns = 0

    @handler
    async def answer(self, text: str, ctx: WorkflowContext[str, str]) -> None:
        self.turns += 1
        await ctx.yield_output(f"Turn {self.turns} of this conversation: {text}")

    async def on_checkpoint_save(self) -> dict[str, Any]:
        return {"turns": self.turns}

    async def on_checkpoint_restore(self, state: dict[str, Any]) -> None:
        self.turns = int(state["turns"])


def build_workflow() -> Workflow:
    # A stable name lets checkpoints written before a restart be found after it.
    return WorkflowBuilder(name="turn-counter", start_executor=TurnCounter()).build()


def build_host(state_dir: str) -> AgentFrameworkHost:
    return AgentFrameworkHost(
        build_workflow,
        channels=[ResponsesChannel()],
        state_dir=state_dir,
        trust_isolation_headers=True,
    )


if __name__ == "__main__":
    port = int(os.environ.get("PORT", "8000"))
    print(f"Workflow over the Responses API: POST http://127.0.0.1:{port}/responses")
    build_host(os.environ.get("STATE_DIR", ".state")).serve(host="127.0.0.1", port=port)

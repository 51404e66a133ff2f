"""A deterministic workflow that asks people before it answers: human in the loop, offline."""

# No postponed annotations: older framework versions read a response handler's as they are.
from dataclasses import dataclass
from typing import Any, Never

from agent_framework import (
    Executor,
    Workflow,
    WorkflowBuilder,
    WorkflowContext,
    handler,
    response_handler,
)

__all__ = ["ReviewRequest", "review_workflow"]


@dataclass
class ReviewRequest:
    """What the workflow asks each reviewer: approve the draft (answer ``True``) or not."""

    draft: str
    reviewer: int


class _Drafter(Executor):
    """Drafts an answer per turn and asks its reviewers; publishes each verdict."""

    def __init__(self, reviewers: int) -> None:
        super().__init__(id="drafter")
        self.reviewers = reviewers
        self.turns = 0

    @handler
    async def draft(self, text: str, ctx: WorkflowContext[Never, str]) -> None:
        self.turns += 1
        draft = f"Draft {self.turns}: {text}"
        await ctx.yield_output(f"{draft} (awaiting review)")
        for reviewer in range(1, self.reviewers + 1):
            await ctx.request_info(ReviewRequest(draft=draft, reviewer=reviewer), bool)

    @response_handler
    async def verdict(
        self, request: ReviewRequest, approved: bool, ctx: WorkflowContext[Never, str]
    ) -> None:
        verdict = "Approved" if approved else "Rejected"
        await ctx.yield_output(f"{verdict} by reviewer {request.reviewer}: {request.draft}")

    async def on_checkpoint_save(self) -> dict[str, Any]:
        return {"turns": self.turns}

    async def on_checkpoint_restore(self, state: dict[str, Any]) -> None:
        self.turns = int(state["turns"])


def review_workflow(*, reviewers: int = 1, name: str = "review") -> Workflow:
    """A workflow that drafts ``Draft N: <text>`` and asks ``reviewers`` people about it.

    Each turn yields ``"Draft N: <text> (awaiting review)"`` and makes one
    :class:`ReviewRequest` per reviewer (``ctx.request_info``, a ``bool`` answer); each
    answer yields ``"Approved by reviewer R: Draft N: <text>"`` (or ``Rejected``). ``N``
    counts the turns of the conversation and survives checkpoints.
    """
    return WorkflowBuilder(name=name, start_executor=_Drafter(reviewers)).build()

"""A workflow's output events as agent updates; a turn's response that is also its run result."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any, cast

from agent_framework import (
    AgentResponse,
    AgentResponseUpdate,
    Content,
    Message,
    WorkflowEvent,
    WorkflowRunResult,
    WorkflowRunState,
)

__all__ = ["WorkflowTurnResponse", "updates_from_event"]


class WorkflowTurnResponse(AgentResponse):
    """A workflow turn's response: its outputs (then its pending requests) as messages.

    It is an ``AgentResponse``, so channels render it like an agent's, and it answers
    what the framework's ``WorkflowRunResult`` answers (``get_outputs()``,
    ``get_request_info_events()``, ``get_final_state()``, ``status_timeline()``), read
    on :attr:`run_result`, the run's own events.
    """

    TYPE = "agent_response"
    """Serialized as the ``AgentResponse`` it is."""

    _run_result: WorkflowRunResult | None = None

    @classmethod
    def of_turn(
        cls, updates: Sequence[AgentResponseUpdate], run_result: WorkflowRunResult | None
    ) -> WorkflowTurnResponse:
        """The response made of a turn's ``updates``, answering for its ``run_result``."""
        response = cast("WorkflowTurnResponse", cls.from_updates(updates))
        response._run_result = run_result
        return response

    @property
    def run_result(self) -> WorkflowRunResult:
        """The framework's result of the run: every event it emitted (none when unknown)."""
        return self._run_result if self._run_result is not None else WorkflowRunResult([])

    def get_outputs(self) -> list[Any]:
        """The data of each output the workflow yielded in the turn."""
        return self.run_result.get_outputs()

    def get_request_info_events(self) -> list[WorkflowEvent[Any]]:
        """The requests for outside input the workflow made in the turn."""
        return self.run_result.get_request_info_events()

    def get_final_state(self) -> WorkflowRunState:
        """The state the workflow ended the turn in."""
        return self.run_result.get_final_state()

    def status_timeline(self) -> list[WorkflowEvent[Any]]:
        """The workflow's status events of the turn, in order."""
        return self.run_result.status_timeline()


def updates_from_event(event: WorkflowEvent[Any]) -> list[AgentResponseUpdate]:
    """The updates an ``output`` event shows (none for any other event).

    Each carries the event as ``raw_representation`` and the executor that yielded it as
    ``author_name``; an update the executor yielded itself is passed on as it is, with
    the event as its raw representation when it has none (a copy: the executor's stays).
    """
    if event.type != "output":
        return []
    data: Any = event.data
    author: str | None = getattr(event, "executor_id", None)
    if isinstance(data, AgentResponseUpdate):
        if data.raw_representation is not None:
            return [data]
        shown = copy.copy(data)
        shown.raw_representation = event
        return [shown]
    if isinstance(data, AgentResponse):
        messages = cast("AgentResponse", data).messages
        return [_update(message.contents, event, author) for message in messages]
    if isinstance(data, Message):
        return [_update(data.contents, event, author)]
    if isinstance(data, Content):
        return [_update([data], event, author)]
    return [_update([Content.from_text(text=str(data))], event, author)]


def _update(
    contents: list[Content], event: WorkflowEvent[Any], author: str | None
) -> AgentResponseUpdate:
    return AgentResponseUpdate(
        contents=contents, role="assistant", author_name=author, raw_representation=event
    )

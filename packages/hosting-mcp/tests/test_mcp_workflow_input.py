"""A workflow's questions asked through MCP elicitation, and answered without it."""

from __future__ import annotations

import json
from typing import Any

from agent_framework_hosting.testing import review_workflow
from mcp.client.session import ClientRequestContext
from mcp_harness import connect, serving, text_of
from mcp_types import ElicitRequestFormParams, ElicitRequestParams, ElicitResult, ErrorData


class Reviewer:
    """An elicitation callback answering every question with ``answer``."""

    def __init__(self, answer: dict[str, Any] | None, action: str = "accept") -> None:
        self.answer = answer
        self.action = action
        self.asked: list[ElicitRequestParams] = []

    async def __call__(
        self, context: ClientRequestContext, params: ElicitRequestParams
    ) -> ElicitResult:
        self.asked.append(params)
        return ElicitResult(action=self.action, content=self.answer)  # type: ignore[arg-type]


async def test_a_workflow_question_is_asked_by_elicitation_and_the_answer_resumes_it() -> None:
    reviewer = Reviewer({"answer": True})
    async with (
        serving(lambda: review_workflow()) as served,
        connect(served.url, elicitation_callback=reviewer) as session,
    ):
        result = await session.call_tool("review", {"message": "essay"})
    assert not result.is_error, text_of(result)
    assert text_of(result) == (
        "Draft 1: essay (awaiting review)\n\nApproved by reviewer 1: Draft 1: essay"
    )
    [asked] = reviewer.asked
    assert isinstance(asked, ElicitRequestFormParams)
    assert asked.requested_schema["properties"] == {
        "answer": {"type": "boolean", "title": "Answer"}
    }
    assert "ReviewRequest" in asked.message
    assert "Draft 1: essay" in asked.message


async def test_each_of_several_questions_is_asked() -> None:
    reviewer = Reviewer({"answer": False})
    async with (
        serving(lambda: review_workflow(reviewers=2)) as served,
        connect(served.url, elicitation_callback=reviewer) as session,
    ):
        result = await session.call_tool("review", {"message": "essay"})
    assert len(reviewer.asked) == 2
    assert "Rejected by reviewer 1" in text_of(result)
    assert "Rejected by reviewer 2" in text_of(result)


async def test_a_client_without_elicitation_is_told_input_is_required_and_answers_in_a_call() -> (
    None
):
    async with serving(lambda: review_workflow()) as served, connect(served.url) as session:
        asked = await session.call_tool("review", {"message": "essay"})
        assert asked.is_error
        assert "needs input" in text_of(asked)
        call_id = text_of(asked).split("Waiting for: ")[1].split(" ")[0]
        answered = await session.call_tool("review", {"answers": {call_id: True}})
    assert text_of(answered) == "Approved by reviewer 1: Draft 1: essay"


async def test_a_declined_question_leaves_the_workflow_waiting_and_says_so() -> None:
    reviewer = Reviewer(None, action="decline")
    async with (
        serving(lambda: review_workflow()) as served,
        connect(served.url, elicitation_callback=reviewer) as session,
    ):
        declined = await session.call_tool("review", {"message": "essay"})
        new_message = await session.call_tool("review", {"message": "another"})
    assert declined.is_error
    assert "still waiting" in text_of(declined)
    assert new_message.is_error
    assert "waiting for answers" in text_of(new_message)


async def test_an_answer_of_the_wrong_type_is_a_tool_error() -> None:
    async with serving(lambda: review_workflow()) as served, connect(served.url) as session:
        asked = await session.call_tool("review", {"message": "essay"})
        call_id = text_of(asked).split("Waiting for: ")[1].split(" ")[0]
        wrong = await session.call_tool("review", {"answers": {call_id: {"nested": [1]}}})
        right = await session.call_tool("review", {"answers": {call_id: json.dumps(True)}})
    assert wrong.is_error
    assert "bool" in text_of(wrong)
    assert text_of(right) == "Approved by reviewer 1: Draft 1: essay"


async def test_a_client_that_fails_to_ask_leaves_the_workflow_waiting() -> None:
    async def failing(context: ClientRequestContext, params: ElicitRequestParams) -> ErrorData:
        return ErrorData(code=-32603, message="no screen to ask on")

    async with (
        serving(lambda: review_workflow()) as served,
        connect(served.url, elicitation_callback=failing) as session,
    ):
        result = await session.call_tool("review", {"message": "essay"})
    assert result.is_error
    assert "still waiting" in text_of(result)

"""Declared tools round trip through the client; a workflow's requests are interrupts."""

from __future__ import annotations

from ag_ui.core import RunFinishedInterruptOutcome, RunFinishedSuccessOutcome, ToolCallStartEvent
from agent_framework import Agent
from agent_framework_hosting.testing import OfflineChatClient, review_workflow

from ._agui import post_run, run_input, serving, user_message

PICK_COLOR = {
    "name": "pick_color",
    "description": "Ask the person for a color.",
    "parameters": {"type": "object", "properties": {}},
}


def agent() -> Agent:
    return Agent(client=OfflineChatClient(), name="tools")


async def test_a_call_of_a_declared_tool_ends_the_run_waiting_for_the_client() -> None:
    async with serving(agent()) as (_, client):
        answer = await post_run(
            client, run_input("t", user_message("pick_color now"), tools=[PICK_COLOR])
        )
    [start] = answer.of(ToolCallStartEvent)
    outcome = answer.finished.outcome
    assert start.tool_call_name == "pick_color"
    assert "TOOL_CALL_RESULT" not in answer.types
    assert isinstance(outcome, RunFinishedSuccessOutcome)
    assert outcome.pending_tool_call_ids == [start.tool_call_id]


async def test_the_clients_tool_result_continues_the_run_from_the_call() -> None:
    async with serving(agent()) as (_, client):
        first = await post_run(
            client, run_input("t", user_message("pick_color now"), tools=[PICK_COLOR])
        )
        [call] = first.of(ToolCallStartEvent)
        result = {
            "id": "result-1",
            "role": "tool",
            "toolCallId": call.tool_call_id,
            "content": "blue",
        }
        second = await post_run(client, run_input("t", result, tools=[PICK_COLOR]))
    assert second.text == "Tool pick_color returned: blue"


async def test_a_declared_tool_named_like_an_agent_tool_is_refused() -> None:
    from agent_framework import tool

    @tool
    def pick_color() -> str:
        """The agent's own."""
        return "red"

    own = Agent(client=OfflineChatClient(), name="tools", tools=[pick_color])
    async with serving(own) as (_, client):
        answer = await post_run(client, run_input("t", user_message("hi"), tools=[PICK_COLOR]))
    assert answer.status == 400
    assert "pick_color" in answer.raw


async def test_a_workflows_request_ends_the_run_with_an_interrupt() -> None:
    async with serving(lambda: review_workflow()) as (_, client):
        answer = await post_run(client, run_input("t", user_message("essay")))
    outcome = answer.finished.outcome
    assert answer.text == "Draft 1: essay (awaiting review)"
    assert isinstance(outcome, RunFinishedInterruptOutcome)
    [interrupt] = outcome.interrupts
    assert interrupt.reason == "input_required"
    assert interrupt.metadata == {
        "request": {"type": "ReviewRequest", "data": {"draft": "Draft 1: essay", "reviewer": 1}}
    }


async def test_resume_answers_the_interrupt_and_the_workflow_goes_on() -> None:
    async with serving(lambda: review_workflow()) as (_, client):
        first = await post_run(client, run_input("t", user_message("essay")))
        [interrupt] = first.finished.outcome.interrupts  # type: ignore[union-attr]
        resume = [{"interruptId": interrupt.id, "status": "resolved", "payload": True}]
        second = await post_run(client, run_input("t", resume=resume))
    assert second.text == "Approved by reviewer 1: Draft 1: essay"
    assert isinstance(second.finished.outcome, RunFinishedSuccessOutcome)


async def test_the_thread_lists_the_open_interrupts_until_they_are_answered() -> None:
    async with serving(lambda: review_workflow()) as (_, client):
        first = await post_run(client, run_input("t", user_message("essay")))
        waiting = (await client.get("/ag-ui/threads/t")).json()["interrupts"]
        [interrupt] = first.finished.outcome.interrupts  # type: ignore[union-attr]
        resume = [{"interruptId": interrupt.id, "status": "resolved", "payload": False}]
        await post_run(client, run_input("t", resume=resume))
        answered = (await client.get("/ag-ui/threads/t")).json()["interrupts"]
    assert [entry["id"] for entry in waiting] == [interrupt.id]
    assert answered == []


async def test_a_new_message_while_an_interrupt_is_open_is_a_client_error() -> None:
    async with serving(lambda: review_workflow()) as (_, client):
        await post_run(client, run_input("t", user_message("essay")))
        answer = await post_run(client, run_input("t", user_message("another")))
    assert answer.status == 400
    assert '"type":"RUN_ERROR"' in answer.raw


async def test_an_answer_to_an_unknown_interrupt_is_a_client_error() -> None:
    async with serving(lambda: review_workflow()) as (_, client):
        await post_run(client, run_input("t", user_message("essay")))
        resume = [{"interruptId": "nope", "status": "resolved", "payload": True}]
        answer = await post_run(client, run_input("t", resume=resume))
        thread = (await client.get("/ag-ui/threads/t")).json()
    assert answer.status == 400
    assert "nope" in answer.raw
    assert len(thread["interrupts"]) == 1  # still waiting, nothing lost


async def test_tools_for_a_workflow_are_a_client_error() -> None:
    async with serving(lambda: review_workflow()) as (_, client):
        answer = await post_run(client, run_input("t", user_message("essay"), tools=[PICK_COLOR]))
    assert answer.status == 400

"""Workflow human in the loop: pending requests end a turn as calls, the next turn answers them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from agent_framework import Agent, AgentResponse, Content, Message, WorkflowEvent
from agent_framework_hosting import (
    RESPONSE_SCHEMA_PROPERTY,
    ChannelContext,
    HostedRunResult,
    WorkflowInputError,
)
from agent_framework_hosting._workflow_requests import (
    request_calls,
    response_schema,
    workflow_answers,
)
from agent_framework_hosting.testing import OfflineChatClient, ReviewRequest, review_workflow
from echo_channel import echo_context, echo_turn


def calls_of(response: AgentResponse) -> list[Content]:
    return [c for m in response.messages for c in m.contents if c.type == "function_call"]


def answer(*pairs: tuple[str, Any]) -> list[Message]:
    """Function results for ``(call_id, result)`` pairs, as a tool message each."""
    return [
        Message("tool", [Content.from_function_result(call_id=call_id, result=result)])
        for call_id, result in pairs
    ]


async def ask(context: ChannelContext, text: str = "essay", key: str = "k") -> list[Content]:
    """Run a turn that leaves review requests pending; their calls."""
    return calls_of((await context.run(echo_turn(text, key))).result)


async def test_a_pending_request_ends_the_turn_as_a_function_call() -> None:
    result = await echo_context(lambda: review_workflow()).run(echo_turn("essay", "k"))
    assert result.text == "Draft 1: essay (awaiting review)"
    [call] = calls_of(result.result)
    assert call.name == "ReviewRequest"
    assert call.call_id
    assert json.loads(str(call.arguments)) == {"draft": "Draft 1: essay", "reviewer": 1}


async def test_a_pending_request_names_the_schema_of_its_answer() -> None:
    [call] = await ask(echo_context(lambda: review_workflow()))
    assert call.additional_properties[RESPONSE_SCHEMA_PROPERTY] == {"type": "boolean"}


def test_a_response_type_without_a_json_schema_has_none() -> None:
    assert response_schema(type(lambda: None)) is None


async def test_the_answer_resumes_the_workflow_which_finishes_the_turn() -> None:
    context = echo_context(lambda: review_workflow())
    [call] = await ask(context)
    result = await context.run(echo_turn(answer((str(call.call_id), "true")), "k"))
    assert result.text == "Approved by reviewer 1: Draft 1: essay"
    assert calls_of(result.result) == []
    # The conversation goes on from there: its next turn is a new message.
    assert (await context.run(echo_turn("more", "k"))).text.startswith("Draft 2: more")


async def test_requests_and_answers_stream_too() -> None:
    context = echo_context(lambda: review_workflow())
    stream = await context.run_stream(echo_turn("essay", "k"))
    updates = [update async for update in stream]
    assert updates[0].text == "Draft 1: essay (awaiting review)"
    [call] = [c for c in updates[-1].contents if c.type == "function_call"]
    assert calls_of((await stream.get_final_response()).result) == [call]
    answered = await context.run_stream(echo_turn(answer((str(call.call_id), "false")), "k"))
    assert [update.text async for update in answered] == ["Rejected by reviewer 1: Draft 1: essay"]


async def test_each_request_is_its_own_call_and_all_are_answered_in_one_turn() -> None:
    context = echo_context(lambda: review_workflow(reviewers=2))
    first, second = await ask(context)
    assert json.loads(str(second.arguments))["reviewer"] == 2
    with pytest.raises(WorkflowInputError, match="has no answer"):
        await context.run(echo_turn(answer((str(first.call_id), "true")), "k"))
    both = answer((str(first.call_id), "true"), (str(second.call_id), "false"))
    result = await context.run(echo_turn(both, "k"))
    assert result.text == (
        "Approved by reviewer 1: Draft 1: essayRejected by reviewer 2: Draft 1: essay"
    )


async def test_an_unknown_call_id_is_refused_and_the_request_stays_pending() -> None:
    context = echo_context(lambda: review_workflow())
    [call] = await ask(context)
    with pytest.raises(WorkflowInputError, match="no pending request with call id 'nope'") as info:
        await context.run(echo_turn(answer(("nope", "true")), "k"))
    assert info.value.call_id == "nope"
    result = await context.run(echo_turn(answer((str(call.call_id), "true")), "k"))
    assert result.text == "Approved by reviewer 1: Draft 1: essay"


async def test_an_answer_of_the_wrong_type_is_refused_and_can_be_sent_again() -> None:
    context = echo_context(lambda: review_workflow())
    [call] = await ask(context)
    call_id = str(call.call_id)
    with pytest.raises(WorkflowInputError, match="must be bool") as info:
        await context.run(echo_turn(answer((call_id, "maybe")), "k"))
    assert info.value.call_id == call_id
    assert (await context.run(echo_turn(answer((call_id, "true")), "k"))).text.startswith(
        "Approved"
    )


async def test_a_new_message_while_requests_are_pending_is_refused() -> None:
    context = echo_context(lambda: review_workflow())
    [call] = await ask(context)
    with pytest.raises(WorkflowInputError, match="waiting for answers"):
        await context.run(echo_turn("something else", "k"))
    mixed = [Message("user", ["and also"]), *answer((str(call.call_id), "true"))]
    with pytest.raises(WorkflowInputError, match="holds only the answers"):
        await context.run(echo_turn(mixed, "k"))


async def test_answers_without_pending_requests_are_refused() -> None:
    context = echo_context(lambda: review_workflow())
    with pytest.raises(WorkflowInputError, match="waiting for none"):
        await context.run(echo_turn(answer(("call", "true")), "k"))


async def test_an_echoed_transcript_beside_the_answers_does_not_reach_the_workflow() -> None:
    context = echo_context(lambda: review_workflow())
    first = await context.run(echo_turn("essay", "k"))
    [call] = calls_of(first.result)
    echoed = [*first.result.messages, *answer((str(call.call_id), "true"))]
    assert (await context.run(echo_turn(echoed, "k"))).text.startswith("Approved")


async def test_check_input_refuses_what_the_run_would_without_running() -> None:
    context = echo_context(lambda: review_workflow())
    [call] = await ask(context)
    with pytest.raises(WorkflowInputError, match="no pending request"):
        await context.check_input(echo_turn(answer(("nope", "true")), "k"))
    await context.check_input(echo_turn(answer((str(call.call_id), "true")), "k"))
    result = await context.run(echo_turn(answer((str(call.call_id), "true")), "k"))
    assert result.text == "Approved by reviewer 1: Draft 1: essay"


async def test_check_input_takes_anything_for_an_agent() -> None:
    context = echo_context(Agent(client=OfflineChatClient()))
    await context.check_input(echo_turn(answer(("any", "thing")), "k"))


async def test_a_new_host_on_the_same_state_dir_answers_the_pending_request(
    tmp_path: Path,
) -> None:
    [call] = await ask(echo_context(lambda: review_workflow(), state_dir=tmp_path))
    again = echo_context(lambda: review_workflow(), state_dir=tmp_path)
    stream = await again.run_stream(echo_turn(answer((str(call.call_id), "true")), "k"))
    final: HostedRunResult = await stream.get_final_response()
    assert final.text == "Approved by reviewer 1: Draft 1: essay"


def pending(response_type: type[Any], data: Any = "question") -> dict[str, WorkflowEvent[Any]]:
    event = WorkflowEvent.request_info(
        request_id="r", source_executor_id="e", request_data=data, response_type=response_type
    )
    return {"r": event}


@dataclass
class Decision:
    approved: bool
    note: str = ""


@pytest.mark.parametrize(
    ("response_type", "output", "expected"),
    [
        (bool, "true", True),
        (int, "3", 3),
        (float, "3", 3.0),
        (str, '"quoted"', '"quoted"'),
        (str, "plain text", "plain text"),
        (list[str], '["a", "b"]', ["a", "b"]),
        (Decision, '{"approved": false, "note": "no"}', Decision(approved=False, note="no")),
    ],
)
def test_an_answer_is_json_converted_to_the_response_type(
    response_type: type[Any], output: str, expected: Any
) -> None:
    assert workflow_answers(answer(("r", output)), pending(response_type)) == {"r": expected}


@pytest.mark.parametrize(
    ("response_type", "output"),
    [
        (bool, "yes"),
        (int, "1.5"),
        (Decision, '"approved"'),
        (Decision, '{"x": 1}'),
        (float, "NaN"),
        (float, "1e400"),
        (list[str], "[" * 100_000 + "]" * 100_000),
    ],
)
def test_an_answer_that_does_not_convert_is_refused(response_type: type[Any], output: str) -> None:
    with pytest.raises(WorkflowInputError, match="The answer to call 'r' must be"):
        workflow_answers(answer(("r", output)), pending(response_type))


def test_a_call_answered_twice_is_refused() -> None:
    with pytest.raises(WorkflowInputError, match="answered twice"):
        workflow_answers(answer(("r", "true"), ("r", "false")), pending(bool))


def test_request_data_of_any_kind_becomes_json_arguments() -> None:
    [dataclass_call] = request_calls(pending(bool, ReviewRequest(draft="d", reviewer=2)))
    assert json.loads(str(dataclass_call.arguments)) == {"draft": "d", "reviewer": 2}
    [text_call] = request_calls(pending(bool, "Proceed?"))
    assert (text_call.name, json.loads(str(text_call.arguments))) == ("str", "Proceed?")

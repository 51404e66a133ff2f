"""Workflow human in the loop over the Responses API, with the strict sync and async SDK clients.

A workflow's pending ``request_info`` completes the response with a ``function_call`` item;
the client answers with a ``function_call_output`` item and ``previous_response_id``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from agent_framework_hosting.testing import LoopbackServer, review_workflow
from openai.types.responses import Response, ResponseFunctionToolCall

from ._clients import completed, connect, post, refusal, sdk, serve, stream_events, turn
from ._sync_and_async import SDKClient, client_of, done, final_of_stream


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with serve(workflow=lambda: review_workflow()) as running:
        yield running


@pytest.fixture(params=["sync", "async"])
def client(server: LoopbackServer, request: pytest.FixtureRequest) -> SDKClient:
    """The strict sync client, then the strict async one."""
    return client_of(request.param, server)


def calls_of(response: Response) -> list[ResponseFunctionToolCall]:
    return [item for item in response.output if isinstance(item, ResponseFunctionToolCall)]


def answers(*pairs: tuple[str, str]) -> Any:
    """``function_call_output`` items for ``(call_id, output)`` pairs."""
    return [
        {"type": "function_call_output", "call_id": call_id, "output": output}
        for call_id, output in pairs
    ]


async def ask(client: SDKClient, text: str = "essay") -> tuple[Response, ResponseFunctionToolCall]:
    """A turn that leaves one review request pending: the response and its call."""
    response = await done(client.responses.create(model="wf", input=text))
    [call] = calls_of(response)
    return response, call


async def test_a_pending_request_completes_the_response_with_a_function_call_item(
    client: SDKClient,
) -> None:
    response, call = await ask(client)
    assert response.status == "completed"
    assert [item.type for item in response.output] == ["message", "function_call"]
    assert response.output_text == "Draft 1: essay (awaiting review)"
    assert call.name == "ReviewRequest"
    assert json.loads(call.arguments) == {"draft": "Draft 1: essay", "reviewer": 1}
    assert call.status == "completed"


async def test_the_function_call_output_resumes_the_workflow_which_finishes_the_turn(
    client: SDKClient,
) -> None:
    first, call = await ask(client)
    second = await done(
        client.responses.create(
            model="wf", input=answers((call.call_id, "true")), previous_response_id=first.id
        )
    )
    assert second.output_text == "Approved by reviewer 1: Draft 1: essay"
    assert calls_of(second) == []
    third = await done(
        client.responses.create(model="wf", input="next", previous_response_id=second.id)
    )
    assert third.output_text == "Draft 2: next (awaiting review)"


async def test_requests_and_answers_stream(server: LoopbackServer, client: SDKClient) -> None:
    events = stream_events(server, {"model": "wf", "input": "essay"})
    done_call = next(e for e in events if e["type"] == "response.function_call_arguments.done")
    assert done_call["name"] == "ReviewRequest"
    first = await final_of_stream(client, model="wf", input="essay")
    [call] = calls_of(first)
    second = await final_of_stream(
        client, model="wf", input=answers((call.call_id, "false")), previous_response_id=first.id
    )
    assert second.output_text == "Rejected by reviewer 1: Draft 1: essay"


def test_several_requests_are_answered_in_one_turn() -> None:
    with serve(workflow=lambda: review_workflow(reviewers=2)) as server:
        client = sdk(server)
        first = client.responses.create(model="wf", input="essay")
        one, two = calls_of(first)
        with pytest.raises(openai.BadRequestError) as caught:
            client.responses.create(
                model="wf", input=answers((one.call_id, "true")), previous_response_id=first.id
            )
        assert f"'{two.call_id}' has no answer" in caught.value.message
        both = answers((one.call_id, "true"), (two.call_id, "true"))
        second = client.responses.create(model="wf", input=both, previous_response_id=first.id)
    assert second.output_text.count("Approved by reviewer") == 2


async def test_an_unknown_call_id_is_a_400_and_the_request_can_still_be_answered(
    client: SDKClient,
) -> None:
    first, call = await ask(client)
    wrong = answers((call.call_id, "true"), ("call_unknown", "true"))
    with pytest.raises(openai.BadRequestError) as caught:
        await done(client.responses.create(model="wf", input=wrong, previous_response_id=first.id))
    error = caught.value
    assert (error.code, error.param) == ("invalid_value", "input[1]")
    assert "No tool call found" in error.message
    assert "'call_unknown'" in error.message
    assert await done(client.responses.retrieve(first.id)) == first
    right = await done(
        client.responses.create(
            model="wf", input=answers((call.call_id, "true")), previous_response_id=first.id
        )
    )
    assert right.output_text == "Approved by reviewer 1: Draft 1: essay"


async def test_an_answer_that_is_not_the_expected_type_is_a_400(client: SDKClient) -> None:
    first, call = await ask(client)
    with pytest.raises(openai.BadRequestError) as caught:
        await done(
            client.responses.create(
                model="wf", input=answers((call.call_id, "maybe")), previous_response_id=first.id
            )
        )
    assert caught.value.param == "input[0]"
    assert "must be bool" in caught.value.message
    right = await done(
        client.responses.create(
            model="wf", input=answers((call.call_id, "false")), previous_response_id=first.id
        )
    )
    assert right.output_text.startswith("Rejected")


async def test_a_new_message_while_a_request_is_pending_is_a_400(client: SDKClient) -> None:
    first, _ = await ask(client)
    with pytest.raises(openai.BadRequestError) as caught:
        await done(
            client.responses.create(model="wf", input="ignore it", previous_response_id=first.id)
        )
    assert (caught.value.param, caught.value.code) == ("input", "invalid_value")
    assert "waiting for answers" in caught.value.message


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("temperature", 0.5),
        ("top_p", 0.9),
        ("presence_penalty", 1.0),
        ("max_output_tokens", 64),
        ("tools", [{"type": "function", "name": "lookup", "parameters": {"type": "object"}}]),
        ("tool_choice", "none"),
    ],
)
async def test_a_run_option_is_refused_because_a_workflow_cannot_take_it(
    client: SDKClient, field: str, value: Any
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await done(client.responses.create(model="wf", input="essay", extra_body={field: value}))
    assert (caught.value.param, caught.value.code) == (field, "unsupported_parameter")
    assert "serves a workflow" in caught.value.message
    # Nothing was started: the next request runs the workflow's first turn.
    response, call = await ask(client)
    assert call.name == "ReviewRequest"
    assert response.output_text == "Draft 1: essay (awaiting review)"


async def test_fields_that_ask_for_nothing_a_workflow_does_not_do_are_accepted(
    client: SDKClient,
) -> None:
    response = await done(
        client.responses.create(
            model="wf", input="essay", tools=[], tool_choice="auto", parallel_tool_calls=False
        )
    )
    assert response.output_text == "Draft 1: essay (awaiting review)"
    assert (response.tools, response.tool_choice, response.parallel_tool_calls) == (
        [],
        "auto",
        False,
    )


def test_a_streamed_request_with_a_wrong_answer_is_a_400_before_any_event(
    server: LoopbackServer,
) -> None:
    client = sdk(server)
    first = client.responses.create(model="wf", input="essay")
    body = {"model": "wf", "input": answers(("nope", "true")), "previous_response_id": first.id}
    for extra in ({"stream": True}, {"stream": True, "background": True}, {"background": True}):
        status, error = post(server, "/responses", {**body, **extra})
        assert status == 400
        assert error["error"]["param"] == "input[0]"
    [call] = calls_of(first)
    with client.responses.stream(
        model="wf", input=answers((call.call_id, "true")), previous_response_id=first.id
    ) as stream:
        final = stream.get_final_response()
    assert final.output_text == "Approved by reviewer 1: Draft 1: essay"


def test_a_conversation_object_keeps_the_call_and_its_answer(server: LoopbackServer) -> None:
    client = sdk(server)
    conversation = client.conversations.create()
    [call] = calls_of(client.responses.create(model="wf", input="x", conversation=conversation.id))
    with pytest.raises(openai.BadRequestError):
        client.responses.create(
            model="wf", input=answers(("nope", "true")), conversation=conversation.id
        )
    answered = client.responses.create(
        model="wf", input=answers((call.call_id, "true")), conversation=conversation.id
    )
    assert answered.output_text == "Approved by reviewer 1: Draft 1: x"
    items = client.conversations.items.list(conversation.id, order="asc").data
    assert [item.type for item in items] == [
        "message",
        "message",
        "function_call",
        "function_call_output",
        "message",
    ]


def test_a_conversation_named_by_trusted_headers_is_answered_without_previous_response_id(
    server: LoopbackServer,
) -> None:
    client = sdk(server, user="alice")
    [call] = calls_of(client.responses.create(model="wf", input="essay"))
    answered = client.responses.create(model="wf", input=answers((call.call_id, "true")))
    assert answered.output_text == "Approved by reviewer 1: Draft 1: essay"


def test_a_new_host_on_the_same_state_dir_takes_the_answer_streamed(tmp_path: Path) -> None:
    with serve(workflow=lambda: review_workflow(), state_dir=tmp_path) as server:
        first = sdk(server).responses.create(model="wf", input="essay")
    [call] = calls_of(first)
    with serve(workflow=lambda: review_workflow(), state_dir=tmp_path) as server:
        client = sdk(server)
        with client.responses.stream(
            model="wf", input=answers((call.call_id, "true")), previous_response_id=first.id
        ) as stream:
            final = stream.get_final_response()
        assert final.output_text == "Approved by reviewer 1: Draft 1: essay"
        after = client.responses.create(model="wf", input="more", previous_response_id=final.id)
    assert after.output_text == "Draft 2: more (awaiting review)"


def test_a_websocket_turn_refuses_a_wrong_answer_and_takes_the_right_one(
    server: LoopbackServer,
) -> None:
    with connect(server) as connection:
        connection.response.create(model="wf", input="essay")
        first = completed(turn(connection))
        [call] = calls_of(first)
        connection.response.create(
            model="wf", input=answers(("nope", "true")), previous_response_id=first.id
        )
        error = refusal(turn(connection))
        connection.response.create(
            model="wf", input=answers((call.call_id, "true")), previous_response_id=first.id
        )
        answered = completed(turn(connection))
    assert (error.status, error.error.code, error.error.param) == (400, "invalid_value", "input[0]")
    assert answered.output_text == "Approved by reviewer 1: Draft 1: essay"

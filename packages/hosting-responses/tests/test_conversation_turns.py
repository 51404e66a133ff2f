"""`conversation` on `POST /responses`: turns continue a conversation object, moving its head."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx
import openai
import pytest
from agent_framework_hosting import ChannelRequest
from agent_framework_hosting_responses import ResponsesChannel

from ._clients import async_sdk, id_of, post, sdk, serve, settled, texts, user_item
from ._schema import sse_events


def test_turns_continue_the_conversation_and_append_their_items() -> None:
    with serve() as server:
        client = sdk(server)
        conversation = client.conversations.create()
        first = client.responses.create(model="m", input="one", conversation=conversation.id)
        second = client.responses.create(
            model="m", input="two", conversation={"id": conversation.id}
        )
        items = client.conversations.items.list(conversation.id, order="asc").data
    assert first.conversation is not None
    assert first.conversation.id == conversation.id
    assert second.previous_response_id is None
    assert second.output_text == "Echo: two (turn 2)"
    assert texts(items) == ["one", "Echo: one (turn 1)", "two", "Echo: two (turn 2)"]
    assert items[1].id == first.output[0].id


def test_items_added_through_the_api_reach_the_agent_on_the_next_turn() -> None:
    with serve() as server:
        client = sdk(server)
        conversation = client.conversations.create(items=[user_item("hello"), user_item("again")])
        first = client.responses.create(model="m", input="one", conversation=conversation.id)
        client.conversations.items.create(conversation.id, items=[user_item("aside")])
        second = client.responses.create(model="m", input="two", conversation=conversation.id)
    assert first.output_text == "Echo: one (turn 3)"
    assert second.output_text == "Echo: two (turn 5)"


def test_deleting_an_item_the_agent_saw_removes_it_from_the_next_turns_context() -> None:
    with serve() as server:
        client = sdk(server)
        conversation = client.conversations.create()
        client.responses.create(model="m", input="one", conversation=conversation.id)
        client.responses.create(model="m", input="two", conversation=conversation.id)
        first_input = client.conversations.items.list(conversation.id, order="asc").data[0]
        client.conversations.items.delete(id_of(first_input), conversation_id=conversation.id)
        third = client.responses.create(model="m", input="three", conversation=conversation.id)
        fourth = client.responses.create(model="m", input="four", conversation=conversation.id)
    assert third.output_text == "Echo: three (turn 2)"
    assert fourth.output_text == "Echo: four (turn 3)"


def test_conversation_with_previous_response_id_is_a_400_naming_the_parameter() -> None:
    with serve() as server:
        client = sdk(server)
        conversation = client.conversations.create()
        first = client.responses.create(model="m", input="one", conversation=conversation.id)
        with pytest.raises(openai.BadRequestError) as caught:
            client.responses.create(
                model="m", input="x", conversation=conversation.id, previous_response_id=first.id
            )
        body: Any = caught.value.body
        assert body["param"] == "previous_response_id"
        assert body["type"] == "invalid_request_error"
        items = client.conversations.items.list(conversation.id).data
    assert len(items) == 2


def test_an_unknown_conversation_is_a_404() -> None:
    with serve() as server:
        status, body = post(server, "/responses", {"input": "x", "conversation": "conv_nope"})
        with pytest.raises(openai.NotFoundError):
            sdk(server).responses.create(model="m", input="x", conversation={"id": "conv_nope"})
    assert status == 404
    assert (body["error"]["param"], body["error"]["code"]) == ("conversation", "not_found")


@pytest.mark.parametrize("repeated", [False, True])
def test_an_input_item_id_already_in_the_conversation_is_a_400(repeated: bool) -> None:
    call: Any = {"type": "function_call_output", "call_id": "c1", "output": "x", "id": "out_1"}
    fresh: Any = {**call, "id": "out_2"}
    with serve() as server:
        client = sdk(server)
        conversation = client.conversations.create(items=[call])
        sent = [fresh, fresh] if repeated else [fresh, call]
        status, body = post(server, "/responses", {"input": sent, "conversation": conversation.id})
        assert len(client.conversations.items.list(conversation.id).data) == 1
    assert status == 400
    assert body["error"]["param"] == "input[1].id"


def test_a_streamed_turn_carries_the_conversation_and_appends_its_items() -> None:
    with serve() as server:
        client = sdk(server)
        conversation = client.conversations.create()
        client.responses.create(model="m", input="one", conversation=conversation.id)
        body = {"input": "two words", "conversation": conversation.id, "stream": True}
        events = sse_events(httpx.post(f"{server.base_url}/responses", json=body).text)
        with client.responses.stream(
            model="m", input="three", conversation=conversation.id
        ) as stream:
            final = stream.get_final_response()
        items = client.conversations.items.list(conversation.id, order="asc").data
    completed = events[-1]["response"]
    assert completed["conversation"] == {"id": conversation.id}
    assert events[0]["response"]["conversation"] == {"id": conversation.id}
    assert completed["output"][0]["content"][0]["text"] == "Echo: two words (turn 2)"
    assert final.output_text == "Echo: three (turn 3)"
    assert texts(items)[-2:] == ["three", "Echo: three (turn 3)"]


def test_a_failed_turn_leaves_the_conversation_as_it_was() -> None:
    def fail_on_boom(request: ChannelRequest, **_: Any) -> ChannelRequest:
        messages: Any = request.input
        if messages[-1].text == "boom":
            raise RuntimeError("boom")
        return request

    with serve(ResponsesChannel(run_hook=fail_on_boom)) as server:
        client = sdk(server)
        conversation = client.conversations.create(items=[user_item("hello")])
        failed_status, failed = post(
            server, "/responses", {"input": "boom", "conversation": conversation.id}
        )
        body = {"input": "boom", "conversation": conversation.id, "stream": True}
        events = sse_events(httpx.post(f"{server.base_url}/responses", json=body).text)
        after = client.responses.create(model="m", input="next", conversation=conversation.id)
        items = client.conversations.items.list(conversation.id, order="asc").data
    assert failed_status == 500
    assert "boom" not in failed["error"]["message"]
    assert events[-1]["type"] == "response.failed"
    assert after.output_text == "Echo: next (turn 2)"
    assert texts(items) == ["hello", "next", "Echo: next (turn 2)"]


def test_an_unstored_turn_still_joins_the_conversation() -> None:
    with serve() as server:
        client = sdk(server)
        conversation = client.conversations.create()
        unstored = client.responses.create(
            model="m", input="one", conversation=conversation.id, store=False
        )
        second = client.responses.create(model="m", input="two", conversation=conversation.id)
        with pytest.raises(openai.NotFoundError):
            client.responses.retrieve(unstored.id)
        items = client.conversations.items.list(conversation.id, order="asc").data
    assert second.output_text == "Echo: two (turn 2)"
    assert texts(items)[:2] == ["one", "Echo: one (turn 1)"]


def test_previous_response_id_on_a_conversation_response_branches_outside_it() -> None:
    with serve() as server:
        client = sdk(server)
        conversation = client.conversations.create()
        first = client.responses.create(model="m", input="one", conversation=conversation.id)
        branch = client.responses.create(model="m", input="fork", previous_response_id=first.id)
        second = client.responses.create(model="m", input="two", conversation=conversation.id)
        items = client.conversations.items.list(conversation.id, order="asc").data
    assert branch.output_text == "Echo: fork (turn 2)"
    assert branch.conversation is None
    assert second.output_text == "Echo: two (turn 2)"
    assert "fork" not in texts(items)


def test_the_conversation_head_links_stored_responses() -> None:
    with serve() as server:
        client = sdk(server)
        conversation = client.conversations.create()
        first = client.responses.create(model="m", input="one", conversation=conversation.id)
        second = client.responses.create(model="m", input="two", conversation=conversation.id)
        # Branching from the head's predecessor replays the conversation's turns up to it.
        branch = client.responses.create(model="m", input="fork", previous_response_id=second.id)
    assert first.id != second.id
    assert branch.output_text == "Echo: fork (turn 3)"


async def test_the_async_client_continues_a_conversation_across_partitions_apart() -> None:
    with serve() as server:
        alice, mallory = async_sdk(server, user="alice"), async_sdk(server, user="mallory")
        conversation = await alice.conversations.create()
        await alice.responses.create(model="m", input="one", conversation=conversation.id)
        second = await alice.responses.create(model="m", input="two", conversation=conversation.id)
        with pytest.raises(openai.NotFoundError):
            await mallory.responses.create(model="m", input="x", conversation=conversation.id)
        items = [item async for item in alice.conversations.items.list(conversation.id, limit=1)]
        await alice.close()
        await mallory.close()
    assert second.output_text == "Echo: two (turn 2)"
    assert second.conversation is not None
    assert texts(items) == ["Echo: two (turn 2)", "two", "Echo: one (turn 1)", "one"]


def test_a_cancelled_background_turn_gives_back_what_it_claimed() -> None:
    entered, release = threading.Event(), asyncio.Event()

    async def hold(request: ChannelRequest, **_: Any) -> ChannelRequest:
        messages: Any = request.input
        if messages[-1].text == "hold":
            entered.set()
            await release.wait()  # never set: only cancelling ends this turn
        return request

    with serve(ResponsesChannel(run_hook=hold)) as server:
        client = sdk(server)
        conversation = client.conversations.create(items=[user_item("hello")])
        queued = client.responses.create(
            model="m", input="hold", conversation=conversation.id, background=True
        )
        assert entered.wait(30)
        cancelled = client.responses.cancel(queued.id)
        items = client.conversations.items.list(conversation.id).data
        after = client.responses.create(model="m", input="next", conversation=conversation.id)
    assert cancelled.status == "cancelled"
    assert cancelled.conversation is not None
    assert texts(items) == ["hello"]
    assert after.output_text == "Echo: next (turn 2)"


class Held:
    """A run hook that holds the turn whose input is ``hold`` until released; then it
    lets the turn go on, or fails it."""

    def __init__(self, *, fail: bool = False) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self._fail = fail

    async def __call__(self, request: ChannelRequest, **_: Any) -> ChannelRequest:
        messages: Any = request.input
        if messages[-1].text == "hold":
            self.entered.set()
            await asyncio.to_thread(self.release.wait, 30)
            if self._fail:
                raise RuntimeError("the held turn fails")
        return request


def test_a_conversation_deleted_while_its_turn_runs_stays_deleted() -> None:
    held = Held()
    with serve(ResponsesChannel(run_hook=held)) as server:
        client = sdk(server)
        conversation = client.conversations.create(items=[user_item("hello")])
        running = client.responses.create(
            model="m", input="hold", conversation=conversation.id, background=True
        )
        assert held.entered.wait(30)
        assert client.conversations.delete(conversation.id).deleted
        held.release.set()
        finished = settled(client, running.id)
        # The turn's items had nowhere to go: the conversation did not come back for them.
        with pytest.raises(openai.NotFoundError):
            client.conversations.retrieve(conversation.id)
        with pytest.raises(openai.NotFoundError):
            client.conversations.items.list(conversation.id)
        with pytest.raises(openai.NotFoundError):
            client.responses.create(model="m", input="again", conversation=conversation.id)
    assert finished.status == "completed"
    assert finished.output_text == "Echo: hold (turn 2)"


def test_a_failed_turn_leaves_alone_the_session_a_later_turn_started() -> None:
    held = Held(fail=True)
    with serve(ResponsesChannel(run_hook=held)) as server:
        client = sdk(server)
        conversation = client.conversations.create(items=[user_item("hello")])
        client.responses.create(model="m", input="one", conversation=conversation.id)
        client.conversations.items.create(conversation.id, items=[user_item("aside")])
        # The held turn claims "aside" for the conversation's session, to replay it.
        failing = client.responses.create(
            model="m", input="hold", conversation=conversation.id, background=True
        )
        assert held.entered.wait(30)
        # Deleting an item that session saw makes the next turn start another session,
        # which replays every item left, "aside" among them.
        hello = client.conversations.items.list(conversation.id, order="asc").data[0]
        client.conversations.items.delete(id_of(hello), conversation_id=conversation.id)
        two = client.responses.create(model="m", input="two", conversation=conversation.id)
        held.release.set()
        failed = settled(client, failing.id)
        # Giving back what the failed turn claimed must not reach the new session: it saw
        # "aside" already, and must not get it again.
        three = client.responses.create(model="m", input="three", conversation=conversation.id)
    assert failed.status == "failed"
    assert two.output_text == "Echo: two (turn 3)"  # one, aside, two
    assert three.output_text == "Echo: three (turn 4)"

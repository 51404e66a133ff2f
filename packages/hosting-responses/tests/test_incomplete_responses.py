"""Responses the agent ends at its token limit: ``incomplete``, with ``max_output_tokens``.

The offline client cuts a reply after ``max_tokens`` words and finishes it with
``length``, as a model at its limit does. Each behaviour with the SDK runs with the
strict sync and async clients, whose every body and event is checked against the spec.
"""

from __future__ import annotations

from typing import Any

from openai import Stream
from openai.types.responses import ResponseOutputMessage

from ._clients import connect, serve, texts, turn
from ._sync_and_async import SDKClient, client_of, done, sync_and_async, wait_for

WORDS = [f"w{n}" for n in range(20)]
LONG = " ".join(WORDS)
LIMIT = 16
"""The least ``max_output_tokens`` the spec allows."""
CUT = " ".join(["Echo:", *WORDS[: LIMIT - 1]])
"""The reply to :data:`LONG` cut after :data:`LIMIT` words."""


async def events_of(client: SDKClient, **params: Any) -> list[Any]:
    """The events of ``responses.create(stream=True, ...)``, with either client."""
    stream: Any = await done(client.responses.create(model="m", stream=True, **params))
    if isinstance(stream, Stream):
        return list(stream)
    return [event async for event in stream]


def assert_cut(response: Any) -> None:
    """``response`` is incomplete at the output limit, its one message too."""
    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"
    assert response.completed_at is None
    (message,) = response.output
    assert isinstance(message, ResponseOutputMessage)
    assert message.status == "incomplete"
    assert response.output_text == CUT


@sync_and_async
async def test_a_reply_cut_at_max_output_tokens_is_incomplete(kind: str) -> None:
    with serve() as server:
        client = client_of(kind, server)
        cut = await done(client.responses.create(model="m", input=LONG, max_output_tokens=LIMIT))
        stored = await done(client.responses.retrieve(cut.id))
        whole = await done(
            client.responses.create(model="m", input=LONG, max_output_tokens=LIMIT + 9)
        )
    assert_cut(cut)
    assert stored == cut
    assert cut.usage is not None
    assert cut.usage.output_tokens == LIMIT
    assert (whole.status, whole.incomplete_details) == ("completed", None)


@sync_and_async
async def test_a_stream_cut_at_the_limit_ends_with_response_incomplete(kind: str) -> None:
    with serve(chunks=4) as server:
        events = await events_of(client_of(kind, server), input=LONG, max_output_tokens=LIMIT)
    kinds = [event.type for event in events]
    assert kinds[-1] == "response.incomplete"
    assert "response.completed" not in kinds
    (item_done,) = [event for event in events if event.type == "response.output_item.done"]
    assert item_done.item.status == "incomplete"
    final = events[-1].response
    assert_cut(final)
    assert final.output == [item_done.item]
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == CUT


@sync_and_async
async def test_a_background_response_cut_at_the_limit_ends_incomplete(kind: str) -> None:
    with serve(delay=0.01) as server:
        client = client_of(kind, server)
        queued = await done(
            client.responses.create(model="m", input=LONG, max_output_tokens=LIMIT, background=True)
        )
        finished = await wait_for(client, queued.id, {"completed", "incomplete", "failed"})
    assert_cut(finished)


@sync_and_async
async def test_a_background_stream_cut_at_the_limit_logs_response_incomplete(kind: str) -> None:
    with serve(chunks=4) as server:
        client = client_of(kind, server)
        live = await events_of(client, input=LONG, max_output_tokens=LIMIT, background=True)
        response_id = live[0].response.id
        replayed: Any = await done(client.responses.retrieve(response_id, stream=True))
        again = list(replayed) if isinstance(replayed, Stream) else [e async for e in replayed]
        stored = await done(client.responses.retrieve(response_id))
    assert [e.type for e in again] == [e.type for e in live]
    assert live[-1].type == "response.incomplete"
    assert_cut(live[-1].response)
    assert_cut(stored)


def test_a_websocket_turn_cut_at_the_limit_ends_with_response_incomplete() -> None:
    with serve() as server, connect(server) as connection:
        connection.response.create(input=LONG, max_output_tokens=LIMIT)
        events = turn(connection)
        last: Any = events[-1]
        connection.response.create(input="next", previous_response_id=last.response.id)
        after = turn(connection)
    assert last.type == "response.incomplete"
    assert_cut(last.response)
    assert after[-1].type == "response.completed"


@sync_and_async
async def test_an_incomplete_turn_counts_in_its_conversation(kind: str) -> None:
    with serve() as server:
        client = client_of(kind, server)
        conversation = await done(client.conversations.create())
        cut = await done(
            client.responses.create(
                model="m", input=LONG, max_output_tokens=LIMIT, conversation=conversation.id
            )
        )
        await done(client.responses.create(model="m", input="next", conversation=conversation.id))
        page = await done(client.conversations.items.list(conversation.id, order="asc"))
        chained = await done(
            client.responses.create(model="m", input="then", previous_response_id=cut.id)
        )
    assert_cut(cut)
    assert texts(page.data) == [LONG, CUT, "next", "Echo: next (turn 2)"]
    assert chained.output_text == "Echo: then (turn 2)"

"""The WebSocket transport, with the SDK's own WebSocket client (sync and async).

Every message the clients read is validated against the spec (stream events, the
WebSocket error envelope) and the SDK's event models, by the connections of
:mod:`._clients`.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from agent_framework import Agent, tool
from agent_framework_hosting.testing import LoopbackServer, OfflineChatClient
from agent_framework_hosting_responses import ResponsesChannel
from agent_framework_hosting_responses._websocket import (  # pyright: ignore[reportPrivateUsage]
    MAX_PENDING_MESSAGES,
)
from hypothesis import example, given
from hypothesis import strategies as st
from openai.types.responses import ResponseFunctionToolCall
from openai.types.responses.responses_server_event import ResponsesServerEvent, ResponseWsError
from websockets.exceptions import ConnectionClosedError

from ._clients import (
    WEATHER,
    async_connect,
    async_sdk,
    async_turn,
    completed,
    connect,
    post,
    refusal,
    sdk,
    serve,
    stream_events,
    turn,
    user_item,
)
from ._strategies import FIELDS, PROFILE, json_values


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with serve() as running:
        yield running


def test_turns_on_one_connection_continue_with_previous_response_id(
    server: LoopbackServer,
) -> None:
    with connect(server) as connection:
        connection.response.create(model="agent", input="hello")
        first = completed(turn(connection))
        connection.response.create(input="again", previous_response_id=first.id)
        second = completed(turn(connection))
    assert first.output_text == "Echo: hello (turn 1)"
    assert second.output_text == "Echo: again (turn 2)"
    assert second.previous_response_id == first.id


def test_a_turn_sends_the_events_a_streamed_post_sends(server: LoopbackServer) -> None:
    over_http = stream_events(server, {"input": "same words"})
    with connect(server) as connection:
        connection.response.create(input="same words")
        over_websocket = turn(connection)
    assert [event.type for event in over_websocket] == [event["type"] for event in over_http]
    assert [getattr(event, "sequence_number", None) for event in over_websocket] == list(
        range(len(over_http))
    )
    deltas = [event["delta"] for event in over_http if event["type"].endswith("text.delta")]
    assert [getattr(event, "delta", None) for event in over_websocket if "delta" in event.type] == (
        deltas
    )


def test_each_turn_numbers_its_events_from_zero(server: LoopbackServer) -> None:
    with connect(server) as connection:
        connection.response.create(input="one")
        first = turn(connection)
        connection.response.create(input="two", previous_response_id=completed(first).id)
        second = turn(connection)
    for events in (first, second):
        assert [getattr(event, "sequence_number", None) for event in events] == list(
            range(len(events))
        )


async def test_the_async_client_continues_unstored_responses_on_its_connection(
    server: LoopbackServer,
) -> None:
    async with async_connect(server) as connection:
        previous: str | None = None
        texts: list[str] = []
        for word in ("one", "two", "three"):
            await connection.response.create(input=word, store=False, previous_response_id=previous)
            response = completed(await async_turn(connection))
            previous = response.id
            texts.append(response.output_text)
    assert texts == ["Echo: one (turn 1)", "Echo: two (turn 2)", "Echo: three (turn 3)"]


def test_an_unstored_response_continues_only_on_its_own_connection(
    server: LoopbackServer,
) -> None:
    with connect(server) as connection:
        connection.response.create(input="private", store=False)
        unstored = completed(turn(connection)).id
    status, body = post(server, "/responses", {"input": "x", "previous_response_id": unstored})
    assert status == 404
    assert body["error"]["code"] == "previous_response_not_found"
    with connect(server) as other:
        other.response.create(input="x", previous_response_id=unstored)
        error = refusal(turn(other))
    assert error.status == 404
    assert error.error.code == "previous_response_not_found"
    assert error.error.param == "previous_response_id"


async def test_a_stored_response_continues_over_http_and_on_other_connections(
    server: LoopbackServer,
) -> None:
    async with async_connect(server) as connection:
        await connection.response.create(input="kept")
        kept = completed(await async_turn(connection)).id
    over_http = await async_sdk(server).responses.create(input="by post", previous_response_id=kept)
    assert over_http.output_text == "Echo: by post (turn 2)"
    async with async_connect(server) as other:
        await other.response.create(input="by socket", previous_response_id=over_http.id)
        assert completed(await async_turn(other)).output_text == "Echo: by socket (turn 3)"


def test_branching_from_an_older_unstored_response_replays_its_transcript(
    server: LoopbackServer,
) -> None:
    with connect(server) as connection:
        connection.response.create(input="root", store=False)
        root = completed(turn(connection)).id
        connection.response.create(input="main line", store=False, previous_response_id=root)
        turn(connection)
        connection.response.create(input="branch", store=False, previous_response_id=root)
        branch = completed(turn(connection))
    assert branch.output_text == "Echo: branch (turn 2)"


def test_an_unstored_response_keeps_its_stored_ancestry_when_that_is_deleted(
    server: LoopbackServer,
) -> None:
    client = sdk(server)
    first = client.responses.create(input="one")
    with connect(server) as connection:
        connection.response.create(input="two", store=False, previous_response_id=first.id)
        second = completed(turn(connection)).id
        client.responses.delete(first.id)
        connection.response.create(input="three", store=False, previous_response_id=second)
        turn(connection)
        connection.response.create(input="again", store=False, previous_response_id=second)
        branch = completed(turn(connection))
    assert branch.output_text == "Echo: again (turn 3)"


def test_a_foreign_partitions_response_is_not_found(server: LoopbackServer) -> None:
    alices = sdk(server, user="alice").responses.create(input="mine")
    with connect(server, user="bob") as connection:
        connection.response.create(input="yours?", previous_response_id=alices.id)
        error = refusal(turn(connection))
    assert error.error.code == "previous_response_not_found"


def test_an_unknown_previous_response_is_an_error_and_the_connection_stays_usable(
    server: LoopbackServer,
) -> None:
    with connect(server) as connection:
        connection.response.create(input="x", previous_response_id="resp_unknown")
        error = refusal(turn(connection))
        connection.response.create(input="after")
        after = completed(turn(connection))
    assert (error.status, error.error.code) == (404, "previous_response_not_found")
    assert error.error.message == "Previous response with id 'resp_unknown' not found."
    assert after.output_text == "Echo: after (turn 1)"


def _create(**fields: Any) -> str:
    return json.dumps({"type": "response.create", "input": "x", **fields})


MALFORMED: list[tuple[str, str, str | None]] = [
    ("not json", "invalid_json", None),
    ("[1, 2]", "invalid_type", None),
    (json.dumps({"input": "no type"}), "missing_required_parameter", "type"),
    (json.dumps({"type": "response.cancel"}), "invalid_value", "type"),
    (json.dumps({"type": "response.create"}), "missing_required_parameter", "input"),
    (_create(stream=True), "unsupported_parameter", "stream"),
    (_create(stream_options={}), "unsupported_parameter", "stream_options"),
    (_create(background=False), "unsupported_parameter", "background"),
    (_create(temperature="hot"), "invalid_type", "temperature"),
    (_create(presence_penalty=3), "invalid_value", "presence_penalty"),
    (_create(tools=[WEATHER, WEATHER]), "invalid_value", "tools[1].name"),
    ('{"type": "response.create", "input": "x", "top_p": NaN}', "invalid_json", None),
    (_create(stream_id="lane"), "unknown_parameter", "stream_id"),
]


@pytest.mark.parametrize(("message", "code", "param"), MALFORMED)
def test_a_malformed_message_is_a_400_and_the_connection_stays_usable(
    server: LoopbackServer, message: str, code: str, param: str | None
) -> None:
    with connect(server) as connection:
        connection.send_raw(message)
        error = refusal(turn(connection))
        connection.response.create(input="still here")
        after = completed(turn(connection))
    assert (error.status, error.error.type) == (400, "invalid_request_error")
    assert (error.error.code, error.error.param) == (code, param)
    assert after.output_text == "Echo: still here (turn 1)"


def test_a_binary_message_is_read_as_json_text() -> None:
    with serve() as server, connect(server) as connection:
        connection.send_raw(b"\xff\xfe not utf-8")
        error = refusal(turn(connection))
        connection.send_raw(_create().encode())
        after = completed(turn(connection))
    assert error.error.code == "invalid_json"
    assert after.output_text == "Echo: x (turn 1)"


creates = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=4).map(
    lambda fields: {"type": "response.create", **fields}
)


def test_random_messages_are_answered_with_a_4xx_or_a_turn() -> None:
    with serve() as server, connect(server) as connection:

        @PROFILE
        @example(message={"type": "response.create", "input": "a\udfffb"})
        @example(message={"type": "response.create", "input": "x", "store": False})
        @given(message=json_values | creates)
        def send(message: Any) -> None:
            # ensure_ascii keeps lone surrogates sendable, as \ud800 escapes.
            connection.send_raw(json.dumps(message))
            events = turn(connection)
            last = events[-1]
            if isinstance(last, ResponseWsError):
                assert last.status is not None
                assert 400 <= last.status < 500, last
                assert last.error.type == "invalid_request_error"
            else:
                assert last.type == "response.completed", events

        send()
        connection.response.create(input="still here")
        assert completed(turn(connection)).output_text.startswith("Echo: still here")


def test_a_message_over_the_size_limit_is_413() -> None:
    with serve(ResponsesChannel(max_body_bytes=1024)) as server, connect(server) as connection:
        connection.response.create(input="x" * 2048)
        error = refusal(turn(connection))
        connection.response.create(input="small")
        after = completed(turn(connection))
    assert (error.status, error.error.code) == (413, "request_too_large")
    assert after.output_text == "Echo: small (turn 1)"


def test_creates_sent_together_run_one_after_another(server: LoopbackServer) -> None:
    words = ["first", "second", "third"]
    with connect(server, user="queue") as connection:
        for word in words:
            connection.response.create(input=word)
        turns = [turn(connection) for _ in words]
    for events in turns:
        assert events[0].type == "response.created"
        assert events[-1].type == "response.completed"
        assert [getattr(event, "sequence_number", None) for event in events] == list(
            range(len(events))
        )
    texts = [completed(events).output_text for events in turns]
    assert texts == [f"Echo: {word} (turn {n})" for n, word in enumerate(words, start=1)]


class _Hang:
    """A tool that runs until it is cancelled, and tells when it started and stopped."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.cancelled = threading.Event()

    def agent(self) -> Agent:
        @tool(name="hang", description="Waits until it is cancelled.")
        async def hang() -> str:
            self.started.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                self.cancelled.set()
                raise
            return "never"

        return Agent(client=OfflineChatClient(), tools=[hang])


def test_closing_the_connection_cancels_the_running_turn() -> None:
    hang = _Hang()
    with serve(agent=hang.agent()) as server:
        with connect(server, user="closer") as connection:
            connection.response.create(input="please hang")
            assert hang.started.wait(30)
        assert hang.cancelled.wait(30)
        with connect(server, user="closer") as again:
            again.response.create(input="next")
            after = completed(turn(again))
    assert after.output_text.startswith("Echo: next")


def test_too_many_waiting_messages_close_the_connection_with_an_error_and_1008() -> None:
    hang = _Hang()
    events: list[ResponsesServerEvent] = []
    with serve(agent=hang.agent()) as server, connect(server) as connection:
        connection.response.create(input="please hang")
        assert hang.started.wait(30)
        for _ in range(MAX_PENDING_MESSAGES + 1):
            connection.response.create(input="waiting")
        with pytest.raises(ConnectionClosedError) as closed:
            events.extend(connection)
        assert hang.cancelled.wait(30)
    error = events[-1]
    assert isinstance(error, ResponseWsError)
    assert error.error.code == "too_many_pending_messages"
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1008


def test_an_agent_failure_fails_the_turn_and_evicts_the_response_it_continued() -> None:
    client = OfflineChatClient()
    with serve(agent=Agent(client=client)) as server, connect(server) as connection:
        connection.response.create(input="fine", store=False)
        first = completed(turn(connection)).id
        client.error = RuntimeError("secret internals")
        connection.response.create(input="boom", store=False, previous_response_id=first)
        failed = turn(connection)
        client.error = None
        connection.response.create(input="retry", store=False, previous_response_id=first)
        evicted = refusal(turn(connection))
    error = next(event for event in failed if isinstance(event, ResponseWsError))
    assert (error.status, error.error.code) == (500, "server_error")
    assert failed[-1].type == "response.failed"
    assert "secret internals" not in repr(failed)
    assert evicted.error.code == "previous_response_not_found"


def test_a_rejected_continuation_evicts_the_response_it_continued(
    server: LoopbackServer,
) -> None:
    with connect(server) as connection:
        connection.response.create(input="fine", store=False)
        first = completed(turn(connection)).id
        bad = {
            "type": "response.create",
            "input": "x",
            "temperature": "hot",
            "previous_response_id": first,
        }
        connection.send_raw(json.dumps(bad))
        rejected = refusal(turn(connection))
        connection.response.create(input="retry", store=False, previous_response_id=first)
        evicted = refusal(turn(connection))
    assert (rejected.status, rejected.error.param) == (400, "temperature")
    assert evicted.error.code == "previous_response_not_found"


def test_the_connection_cache_keeps_the_latest_unstored_responses() -> None:
    with serve(ResponsesChannel(websocket_cache_size=2)) as server, connect(server) as connection:
        ids: list[str] = []
        for word in ("a", "b", "c"):
            connection.response.create(
                input=word, store=False, previous_response_id=ids[-1] if ids else None
            )
            ids.append(completed(turn(connection)).id)
        connection.response.create(input="from a", store=False, previous_response_id=ids[0])
        evicted = refusal(turn(connection))
        connection.response.create(input="from c", store=False, previous_response_id=ids[-1])
        latest = completed(turn(connection))
    assert evicted.error.code == "previous_response_not_found"
    assert latest.output_text == "Echo: from c (turn 4)"


def test_the_connection_time_limit_ends_it_with_an_error() -> None:
    with serve(ResponsesChannel(websocket_max_seconds=0)) as server, connect(server) as connection:
        events = list(connection)
    error = refusal(events)
    assert error.error.code == "websocket_connection_limit_reached"


def test_a_declared_tool_round_trips_on_the_connection_without_storing(
    server: LoopbackServer,
) -> None:
    with connect(server) as connection:
        connection.response.create(input="use get_weather", tools=[WEATHER], store=False)
        asked = completed(turn(connection))
        call = next(item for item in asked.output if isinstance(item, ResponseFunctionToolCall))
        connection.response.create(
            input=[{"type": "function_call_output", "call_id": call.call_id, "output": "Sunny"}],
            tools=[WEATHER],
            store=False,
            previous_response_id=asked.id,
        )
        answered = completed(turn(connection))
    assert answered.output_text == "Tool get_weather returned: Sunny"


def test_a_turn_continues_a_conversation_object(server: LoopbackServer) -> None:
    client = sdk(server)
    conversation = client.conversations.create()
    with connect(server) as connection:
        for word in ("one", "two"):
            connection.response.create(input=[user_item(word)], conversation=conversation.id)
            last = completed(turn(connection))
    assert last.output_text == "Echo: two (turn 2)"
    assert last.conversation is not None
    assert last.conversation.id == conversation.id
    items = client.conversations.items.list(conversation.id, order="asc")
    assert len(items.data) == 4


def test_the_channel_path_serves_websockets_under_a_v1_base_url() -> None:
    with (
        serve(ResponsesChannel(path="/v1/responses")) as server,
        connect(server, base_path="/v1") as connection,
    ):
        connection.response.create(input="versioned")
        assert completed(turn(connection)).output_text == "Echo: versioned (turn 1)"


def test_a_cache_of_no_responses_is_refused() -> None:
    with pytest.raises(ValueError, match="websocket_cache_size"):
        ResponsesChannel(websocket_cache_size=0)


def test_a_negative_connection_time_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="websocket_max_seconds"):
        ResponsesChannel(websocket_max_seconds=-1)

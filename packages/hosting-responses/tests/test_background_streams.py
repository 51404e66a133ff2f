"""Background streams: an event log replayed, resumed and followed, apart from the connection."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Generator, Iterable, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from agent_framework import AgentResponseUpdate
from agent_framework_hosting.testing import LoopbackServer
from agent_framework_hosting_responses import ResponsesChannel
from hypothesis import given, settings
from hypothesis import strategies as st
from openai import OpenAI

from ._clients import async_sdk, host_for, left_behind_now, sdk, serve
from ._schema import sse_events, validate_body

WORDS = "one two three four five six seven eight"
REPLY = f"Echo: {WORDS} (turn 1)"


class Gate:
    """A stream update hook that holds the run before its ``at``-th update until opened."""

    def __init__(self, at: int) -> None:
        self.at = at
        self._seen = 0
        self._opened = threading.Event()

    async def __call__(self, update: AgentResponseUpdate) -> AgentResponseUpdate:
        self._seen += 1
        if self._seen == self.at:
            await asyncio.to_thread(self._opened.wait)
        return update

    def open(self) -> None:
        """Let the held run go on."""
        self._opened.set()


@contextmanager
def gated(at: int, **channel: Any) -> Generator[tuple[LoopbackServer, Gate]]:
    """A server whose streamed runs hold before their ``at``-th update until the gate opens."""
    gate = Gate(at)
    with serve(ResponsesChannel(stream_update_hook=gate, **channel), chunks=8) as server:
        try:
            yield server, gate
        finally:
            gate.open()  # before the server stops: it waits for the held run


def start(client: OpenAI, **fields: Any) -> Any:
    """Create a background stream of :data:`WORDS`."""
    return client.responses.create(model="m", input=WORDS, background=True, stream=True, **fields)


# Events as the SDK types them: raw stream events, or the stream helper's richer ones.
Event = Any


def until_deltas(events: Iterable[Event], count: int) -> list[Event]:
    """Read events up to and including the ``count``-th text delta."""
    read: list[Event] = []
    for event in events:
        read.append(event)
        if sum(e.type == "response.output_text.delta" for e in read) == count:
            return read
    raise AssertionError(f"the stream ended before {count} deltas")


def deltas(events: Sequence[Event]) -> str:
    return "".join(e.delta for e in events if e.type == "response.output_text.delta")


def numbers(events: Sequence[Event]) -> list[int]:
    return [event.sequence_number for event in events]


def test_a_background_stream_replays_from_its_first_event() -> None:
    with serve(chunks=4) as server:
        client = sdk(server)
        live = list(start(client))
        response_id = live[0].response.id
        with client.responses.stream(response_id=response_id) as stream:
            replayed = list(stream)
            final = stream.get_final_response()
        stored = client.responses.retrieve(response_id)
        raw = httpx.get(f"{server.base_url}/responses/{response_id}", params={"stream": "true"})
    assert [e.type for e in replayed] == [e.type for e in live]
    assert numbers(replayed) == numbers(live) == list(range(len(live)))
    assert live[-1].type == "response.completed"
    assert deltas(replayed) == final.output_text == REPLY
    assert stored.status == "completed"
    assert stored.background is True
    assert [e["sequence_number"] for e in sse_events(raw.text)] == numbers(live)


def test_resuming_after_a_sequence_number_sends_only_the_later_events() -> None:
    with serve(chunks=4) as server:
        client = sdk(server)
        live = list(start(client))
        response_id = live[0].response.id
        with client.responses.stream(response_id=response_id, starting_after=5) as stream:
            resumed = list(stream)
            final = stream.get_final_response()
        raw = list(client.responses.retrieve(response_id, stream=True, starting_after=5))
        past_the_end = list(
            client.responses.retrieve(response_id, stream=True, starting_after=len(live) + 9)
        )
    assert numbers(resumed) == numbers(raw) == list(range(6, len(live)))
    assert final.output_text == REPLY
    assert past_the_end == []


async def test_the_async_client_replays_and_resumes_a_background_stream() -> None:
    with serve(chunks=4) as server:
        client = async_sdk(server)
        created = await client.responses.create(
            model="m", input=WORDS, background=True, stream=True
        )
        live: list[Event] = [event async for event in created]
        response_id = live[0].response.id
        async with client.responses.stream(response_id=response_id) as stream:
            replayed = [event async for event in stream]
            final = await stream.get_final_response()
        async with client.responses.stream(response_id=response_id, starting_after=3) as stream:
            resumed = [event async for event in stream]
        raw = await client.responses.retrieve(response_id, stream=True, starting_after=3)
        raw_events = [event async for event in raw]
    assert numbers(replayed) == numbers(live)
    assert final.output_text == REPLY
    assert numbers(resumed) == numbers(raw_events) == numbers(live)[4:]


def test_a_dropped_connection_leaves_the_run_going_and_a_reconnect_follows_it() -> None:
    with gated(at=3) as (server, gate):
        client = sdk(server)
        stream = start(client)
        before = until_deltas(iter(stream), 2)
        stream.close()
        response_id = before[0].response.id
        # The run waits at the gate: it is neither finished nor cancelled by the drop.
        assert client.responses.retrieve(response_id).status == "in_progress"
        last = before[-1].sequence_number
        with client.responses.stream(response_id=response_id, starting_after=last) as resumed:
            gate.open()
            after = list(resumed)
            final = resumed.get_final_response()
    assert numbers(after)[0] == last + 1
    assert numbers(before) + numbers(after) == list(range(len(before) + len(after)))
    assert deltas(before) + deltas(after) == final.output_text == REPLY


async def test_an_async_reconnect_follows_the_run_live() -> None:
    with gated(at=3) as (server, gate):
        client = async_sdk(server)
        created = await client.responses.create(
            model="m", input=WORDS, background=True, stream=True
        )
        before: list[Event] = []
        async for event in created:
            before.append(event)
            if event.type == "response.output_text.delta":
                break
        await created.close()
        last = before[-1].sequence_number
        response_id = before[0].response.id
        async with client.responses.stream(response_id=response_id, starting_after=last) as resumed:
            gate.open()
            after = [event async for event in resumed]
            final = await resumed.get_final_response()
    assert numbers(before) + numbers(after) == list(range(len(before) + len(after)))
    assert deltas(before) + deltas(after) == final.output_text == REPLY


def test_cancelling_a_background_stream_ends_its_log_with_the_cancelled_response() -> None:
    with gated(at=2) as (server, _):
        client = sdk(server)
        stream = start(client)
        events = iter(stream)
        before = until_deltas(events, 1)
        response_id = before[0].response.id
        cancelled = sdk(server).responses.cancel(response_id)
        rest = list(events)
        replayed = list(client.responses.retrieve(response_id, stream=True))
        again = client.responses.cancel(response_id)
    assert cancelled.status == again.status == "cancelled"
    terminal = rest[-1]
    assert terminal.type == "response.incomplete"
    assert terminal.response.status == "cancelled"
    assert numbers(replayed) == numbers(before) + numbers(rest)
    assert replayed[-1].type == "response.incomplete"


def test_a_background_stream_is_created_queued_then_goes_in_progress() -> None:
    with gated(at=1) as (server, gate):
        client = sdk(server)
        events = iter(start(client))
        created, progressing = next(events), next(events)
        # The run waits at the gate: the stored status is the one the last event gave.
        stored = client.responses.retrieve(created.response.id)
        gate.open()
        rest = list(events)
        replayed = list(client.responses.retrieve(created.response.id, stream=True))
    assert (created.type, created.response.status) == ("response.created", "queued")
    assert (progressing.type, progressing.response.status) == (
        "response.in_progress",
        "in_progress",
    )
    assert stored.status == "in_progress"
    assert rest[-1].type == "response.completed"
    assert [(e.type, getattr(e, "response", None)) for e in replayed[:2]] == [
        (created.type, created.response),
        (progressing.type, progressing.response),
    ]


async def test_the_async_client_sees_a_background_stream_created_queued() -> None:
    with serve(chunks=4) as server:
        created = await async_sdk(server).responses.create(
            model="m", input=WORDS, background=True, stream=True
        )
        live: list[Event] = [event async for event in created]
    assert [(e.type, e.response.status) for e in live[:2]] == [
        ("response.created", "queued"),
        ("response.in_progress", "in_progress"),
    ]
    assert live[-1].type == "response.completed"


def test_cancelling_a_background_stream_closes_the_item_it_was_writing_as_incomplete() -> None:
    with gated(at=3) as (server, _):
        client = sdk(server)
        events = iter(start(client))
        before = until_deltas(events, 2)
        client.responses.cancel(before[0].response.id)
        rest = list(events)
        stored = client.responses.retrieve(before[0].response.id)
    assert [e.type for e in rest][-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.incomplete",
    ]
    item = rest[-2].item
    assert item.status == "incomplete"
    assert item.content[0].text == deltas(before) != ""
    assert rest[-1].response.status == stored.status == "cancelled"
    assert rest[-1].response.output == stored.output == [item]


def test_a_failing_background_stream_stores_what_it_streamed() -> None:
    with serve(chunks=4, error=RuntimeError("hunter2"), fail_after_updates=2) as server:
        client = sdk(server)
        live: list[Event] = []
        with pytest.raises(openai.APIError):
            live.extend(start(client))
        stored = client.responses.retrieve(live[0].response.id)
    assert live[-1].type == "response.output_item.done"
    assert live[-1].item.status == "incomplete"
    assert stored.status == "failed"
    assert stored.output == [live[-1].item]
    assert stored.output_text == deltas(live)


def test_a_failing_background_stream_logs_the_failure_without_internals() -> None:
    with serve(chunks=4, error=RuntimeError("hunter2"), fail_after_updates=2) as server:
        client = sdk(server)
        live: list[Event] = []
        # The SDK raises at the error event, as it does on any stream.
        with pytest.raises(openai.APIError) as caught:
            live.extend(start(client))
        response_id = live[0].response.id
        raw = httpx.get(f"{server.base_url}/responses/{response_id}", params={"stream": "true"})
        stored = client.responses.retrieve(response_id)
    assert "hunter2" not in caught.value.message
    assert "hunter2" not in raw.text
    assert [e["type"] for e in sse_events(raw.text)][-2:] == ["error", "response.failed"]
    assert stored.status == "failed"


def test_a_finished_log_survives_a_restart_with_state_dir(tmp_path: Path) -> None:
    with serve(state_dir=tmp_path, chunks=4) as server:
        live = list(start(sdk(server, user="alice")))
    response_id = live[0].response.id
    with serve(state_dir=tmp_path) as server:
        client = sdk(server, user="alice")
        with client.responses.stream(response_id=response_id) as stream:
            replayed = list(stream)
            final = stream.get_final_response()
        resumed = list(client.responses.retrieve(response_id, stream=True, starting_after=4))
    assert [(e.sequence_number, e.type) for e in replayed] == [
        (e.sequence_number, e.type) for e in live
    ]
    assert final.output_text == REPLY
    assert numbers(resumed) == numbers(live)[5:]


def test_another_partition_cannot_stream_the_response() -> None:
    with serve(chunks=4) as server:
        live = list(start(sdk(server, user="alice")))
        response_id = live[0].response.id
        for stranger in (sdk(server, user="mallory"), sdk(server)):
            with pytest.raises(openai.NotFoundError):
                stranger.responses.retrieve(response_id, stream=True)
            with (
                pytest.raises(openai.NotFoundError),
                stranger.responses.stream(response_id=response_id) as stream,
            ):
                list(stream)
        still = list(sdk(server, user="alice").responses.retrieve(response_id, stream=True))
    assert numbers(still) == numbers(live)


@pytest.mark.parametrize("background", [False, True])
def test_a_response_without_a_log_cannot_be_streamed(background: bool) -> None:
    with serve() as server:
        client = sdk(server)
        created = client.responses.create(model="m", input="x", background=background)
        with pytest.raises(openai.BadRequestError) as caught:
            client.responses.retrieve(created.id, stream=True)
    body: Any = caught.value.body
    assert (body["param"], body["code"]) == ("stream", "invalid_value")


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ({"stream": "yes"}, "stream"),
        ({"stream": "true", "starting_after": "-1"}, "starting_after"),
        ({"stream": "true", "starting_after": "two"}, "starting_after"),
    ],
)
def test_bad_stream_parameters_are_a_400(query: dict[str, str], param: str) -> None:
    with serve() as server:
        live = list(start(sdk(server)))
        response = httpx.get(f"{server.base_url}/responses/{live[0].response.id}", params=query)
    assert response.status_code == 400
    validate_body(response.json())
    assert response.json()["error"]["param"] == param


def test_stream_false_retrieves_the_response_object() -> None:
    with serve() as server:
        live = list(start(sdk(server)))
        url = f"{server.base_url}/responses/{live[0].response.id}"
        response = httpx.get(url, params={"stream": "false"})
    assert response.status_code == 200
    validate_body(response.json())
    assert response.json()["status"] == "completed"


def test_a_follower_gets_keepalive_comments_while_the_run_is_silent() -> None:
    with gated(at=2, keepalive_seconds=0.01) as (server, gate):
        live = start(sdk(server))
        response_id = until_deltas(iter(live), 1)[0].response.id
        live.close()
        url = f"{server.base_url}/responses/{response_id}"
        with httpx.stream("GET", url, params={"stream": "true"}) as response:
            chunks: list[str] = []
            for chunk in response.iter_text():
                chunks.append(chunk)
                if ": keep-alive" in chunk:
                    gate.open()
    events = sse_events("".join(chunks))
    assert events[-1]["type"] == "response.completed"


def test_a_log_past_its_bound_merges_deltas_and_still_adds_up() -> None:
    words = " ".join(f"w{i}" for i in range(40))
    channel = ResponsesChannel(max_log_events=6)
    with serve(channel, chunks=40) as server:
        client = sdk(server)
        live: list[Event] = list(
            client.responses.create(model="m", input=words, background=True, stream=True)
        )
        with client.responses.stream(response_id=live[0].response.id) as stream:
            replayed = list(stream)
            final = stream.get_final_response()
    text_deltas = [e for e in live if e.type == "response.output_text.delta"]
    assert len(text_deltas) == 3  # two under the bound, the rest merged into one
    assert numbers(replayed) == numbers(live) == list(range(len(live)))
    assert deltas(replayed) == final.output_text == f"Echo: {words} (turn 1)"


def test_deleting_a_background_response_deletes_its_log() -> None:
    host = host_for(chunks=4)
    with LoopbackServer(host.app) as server:
        client = sdk(server)
        events = list(start(client))
        response_id = events[0].response.id
        assert "event log" in left_behind_now(host.state_store, response_id)
        client.responses.delete(response_id)
        with pytest.raises(openai.NotFoundError):
            client.responses.retrieve(response_id, stream=True)
    assert left_behind_now(host.state_store, response_id) == []


def test_any_log_replays_whole_and_resumes_anywhere_within_its_bound() -> None:
    bounds = (1, 5, 4096)  # 4096: long replies span several stored segments
    with (
        serve(ResponsesChannel(max_log_events=bounds[0]), chunks=500) as tight,
        serve(ResponsesChannel(max_log_events=bounds[1]), chunks=500) as small,
        serve(ResponsesChannel(max_log_events=bounds[2]), chunks=500) as roomy,
    ):
        servers: dict[int, LoopbackServer] = dict(zip(bounds, (tight, small, roomy), strict=True))

        @settings(max_examples=25, deadline=None)
        @given(bound=st.sampled_from(bounds), words=st.integers(1, 160), data=st.data())
        def replay(bound: int, words: int, data: st.DataObject) -> None:
            client = sdk(servers[bound])
            text = " ".join(f"w{n}" for n in range(words))
            live: list[Event] = list(
                client.responses.create(model="m", input=text, background=True, stream=True)
            )
            response_id = live[0].response.id
            whole: list[Event] = list(client.responses.retrieve(response_id, stream=True))
            after = data.draw(st.integers(0, len(live) + 2), label="starting_after")
            resumed: list[Event] = list(
                client.responses.retrieve(response_id, stream=True, starting_after=after)
            )
            assert numbers(whole) == numbers(live) == list(range(len(live)))
            assert [e.type for e in whole] == [e.type for e in live]
            assert deltas(whole) == live[-1].response.output_text == f"Echo: {text} (turn 1)"
            assert numbers(resumed) == numbers(live)[after + 1 :]
            text_deltas = [e for e in whole if e.type == "response.output_text.delta"]
            assert len(text_deltas) <= bound + 1

        replay()

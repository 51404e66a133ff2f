"""The Responses wire format over a real socket: the SDK in strict mode and the spec schema."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from agent_framework import Agent
from agent_framework_hosting import AgentFrameworkHost, MemoryStateStore
from agent_framework_hosting.testing import LoopbackServer, OfflineChatClient
from agent_framework_hosting_responses import ResponsesChannel
from openai import OpenAI

from ._schema import sse_events, validate_event, validate_response

CHAT_HEADER = "x-agent-chat-isolation-key"
PNG = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n").decode()


def serve(
    channel: ResponsesChannel | None = None, *, trusted: bool = False, **client: Any
) -> LoopbackServer:
    agent = Agent(client=OfflineChatClient(**client), name="api")
    host = AgentFrameworkHost(
        agent, channels=[channel or ResponsesChannel()], trust_isolation_headers=trusted
    )
    return LoopbackServer(host.app)


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with serve() as running:
        yield running


def sdk(server: LoopbackServer, base_path: str = "", **headers: str) -> OpenAI:
    return OpenAI(
        base_url=server.base_url + base_path,
        api_key="k",
        max_retries=0,
        _strict_response_validation=True,
        default_headers=headers,
    )


def test_json_response_matches_the_spec_schema(server: LoopbackServer) -> None:
    response = httpx.post(f"{server.base_url}/responses", json={"model": "m", "input": "hi"})
    assert response.status_code == 200
    body = response.json()
    validate_response(body)
    assert body["status"] == "completed"
    assert body["usage"]["total_tokens"] > 0


def test_stream_events_follow_the_spec_order_with_one_output_item(
    server: LoopbackServer,
) -> None:
    body = {"model": "m", "input": "one two three four five six", "stream": True}
    response = httpx.post(f"{server.base_url}/responses", json=body)
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.text)
    for event in events:
        validate_event(event)
    types = [event["type"] for event in events]
    deltas = types.count("response.output_text.delta")
    assert deltas > 1
    assert types == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * deltas,
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [event["sequence_number"] for event in events] == list(range(len(events)))
    item_ids = {event["item_id"] for event in events if "item_id" in event}
    assert len(item_ids) == 1
    completed = events[-1]["response"]
    assert len(completed["output"]) == 1
    assert completed["output"][0]["id"] in item_ids


def test_sdk_stream_helper_accumulates_one_message(server: LoopbackServer) -> None:
    with sdk(server).responses.stream(model="m", input="a b c d e f g") as stream:
        final = stream.get_final_response()
    assert final.output_text == "Echo: a b c d e f g (turn 1)"
    assert [item.type for item in final.output] == ["message"]


def test_sdk_create_with_stream_true_yields_typed_events_in_order(server: LoopbackServer) -> None:
    events = list(sdk(server).responses.create(model="m", input="x y z w", stream=True))
    assert [event.sequence_number for event in events] == list(range(len(events)))
    assert [event.type for event in events[:4]] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert "".join(deltas) == "Echo: x y z w (turn 1)"
    last = events[-1]
    assert last.type == "response.completed"
    assert last.response.output_text == "Echo: x y z w (turn 1)"


def test_previous_response_id_keeps_one_session_over_a_long_chain(
    server: LoopbackServer,
) -> None:
    client = sdk(server)
    response = client.responses.create(model="m", input="turn")
    for expected in range(2, 6):
        response = client.responses.create(
            model="m", input="turn", previous_response_id=response.id
        )
        assert response.output_text == f"Echo: turn (turn {expected})"


def test_unknown_previous_response_id_is_not_found(server: LoopbackServer) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        sdk(server).responses.create(model="m", input="x", previous_response_id="telegram:123")
    assert caught.value.code == "previous_response_not_found"


def test_untrusted_isolation_headers_are_ignored(server: LoopbackServer) -> None:
    client = sdk(server, **{CHAT_HEADER: "victim"})
    client.responses.create(model="m", input="first")
    assert client.responses.create(model="m", input="second").output_text.endswith("(turn 1)")


def test_trusted_user_partition_hides_other_users_responses() -> None:
    with serve(trusted=True) as server:
        alice = sdk(server, **{"x-agent-user-isolation-key": "alice"})
        mallory = sdk(server, **{"x-agent-user-isolation-key": "mallory"})
        first = alice.responses.create(model="m", input="private")
        with pytest.raises(openai.NotFoundError):
            mallory.responses.create(model="m", input="peek", previous_response_id=first.id)
        follow = alice.responses.create(model="m", input="mine", previous_response_id=first.id)
        assert follow.output_text.endswith("(turn 2)")


def test_store_false_response_cannot_be_continued(server: LoopbackServer) -> None:
    client = sdk(server)
    first = client.responses.create(model="m", input="ephemeral", store=False)
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model="m", input="next", previous_response_id=first.id)


class WrittenKeys(MemoryStateStore):
    """A store that writes sessions through per turn, as a durable one does, and logs keys."""

    durable = True

    def __init__(self) -> None:
        super().__init__()
        self.written: list[str] = []

    async def set(self, key: str, value: Any, **options: Any) -> None:
        self.written.append(key)
        await super().set(key, value, **options)

    async def write(self, key: str, value: Any, **options: Any) -> int | None:
        self.written.append(key)
        return await super().write(key, value, **options)


def test_a_store_false_response_over_http_keeps_nothing_not_even_a_session() -> None:
    store = WrittenKeys()
    agent = Agent(client=OfflineChatClient())
    host = AgentFrameworkHost(agent, channels=[ResponsesChannel()], state_store=store)
    with LoopbackServer(host.app) as server:
        client = sdk(server)
        ephemeral = client.responses.create(model="m", input="ephemeral", store=False)
        after_ephemeral = list(store.written)
        kept = client.responses.create(model="m", input="kept")
        continued = client.responses.create(model="m", input="next", previous_response_id=kept.id)
    assert ephemeral.output_text == "Echo: ephemeral (turn 1)"
    assert after_ephemeral == []
    assert store.written  # a stored response, its conversation and its session
    assert continued.output_text == "Echo: next (turn 2)"


def test_image_input_reaches_the_agent(server: LoopbackServer) -> None:
    image: Any = [{"role": "user", "content": [{"type": "input_image", "image_url": PNG}]}]
    response = sdk(server).responses.create(model="m", input=image)
    assert response.output_text == "Echo: [image] (turn 1)"


def test_instructions_are_echoed_and_do_not_count_as_user_turns(server: LoopbackServer) -> None:
    response = sdk(server).responses.create(model="m", input="hello", instructions="Be brief")
    assert response.instructions == "Be brief"
    assert response.output_text == "Echo: hello (turn 1)"


def test_message_items_with_history_count_user_turns(server: LoopbackServer) -> None:
    history: Any = [
        {"role": "user", "content": "earlier"},
        {"role": "assistant", "content": "sure"},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "now"}]},
    ]
    response = sdk(server).responses.create(model="m", input=history)
    assert response.output_text == "Echo: now (turn 2)"


def test_v1_prefix_is_configurable() -> None:
    with serve(ResponsesChannel(path="/v1/responses")) as server:
        response = sdk(server, "/v1").responses.create(model="m", input="prefixed")
    assert response.output_text == "Echo: prefixed (turn 1)"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": "x", "tools": [{"type": "web_search"}]}, "tools[0].type"),
        ({"input": "x", "conversation": {"id": 5}}, "conversation"),
        ({"input": "x", "tool_choice": "required"}, "tool_choice"),
        ({"input": "x", "tools": [{"type": "function"}]}, "tools[0].name"),
        (
            {"input": [{"type": "function_call_output", "call_id": 1, "output": "x"}]},
            "input[0].call_id",
        ),
        ({"input": "x", "mystery": 1}, "mystery"),
        ({"input": 5}, "input"),
        ({"input": ""}, "input"),
        ({"input": [{"role": "robot", "content": "x"}]}, "input[0].role"),
        ({"input": [{"type": "item_reference", "id": "x"}]}, "input[0].type"),
        ({"input": "x", "temperature": "hot"}, "temperature"),
        ({"input": "x", "max_output_tokens": True}, "max_output_tokens"),
        (
            {
                "input": [
                    {
                        "role": "user",
                        "content": [{"type": "input_image", "image_url": "file:///etc/passwd"}],
                    }
                ]
            },
            "input[0].content[0].image_url",
        ),
    ],
)
def test_bad_input_is_a_400_in_the_openai_error_shape(
    server: LoopbackServer, body: dict[str, Any], param: str
) -> None:
    response = httpx.post(f"{server.base_url}/responses", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert error["message"]


@pytest.mark.parametrize("content", [b"{not json", b"", b"\xff\xfe", b"[1, 2]", b'"text"', b"null"])
def test_malformed_or_non_object_bodies_are_a_400_in_the_openai_error_shape(
    server: LoopbackServer, content: bytes
) -> None:
    response = httpx.post(
        f"{server.base_url}/responses",
        content=content,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert set(error) == {"message", "type", "param", "code"}


def test_sdk_raises_bad_request_for_unsupported_fields(server: LoopbackServer) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk(server).responses.create(model="m", input="x", max_tool_calls=3)
    assert caught.value.code == "unsupported_parameter"


def test_agent_failure_is_a_500_without_internals() -> None:
    with serve(error=RuntimeError("db password hunter2")) as server:
        response = httpx.post(f"{server.base_url}/responses", json={"input": "x"})
        with pytest.raises(openai.InternalServerError):
            sdk(server).responses.create(model="m", input="x")
    assert response.status_code == 500
    assert response.json()["error"]["type"] == "server_error"
    assert "hunter2" not in response.text


def test_an_agent_failure_is_logged_under_the_channels_logger(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with (
        caplog.at_level(logging.ERROR, logger="agent_framework.hosting.responses"),
        serve(error=RuntimeError("db password hunter2")) as server,
    ):
        httpx.post(f"{server.base_url}/responses", json={"input": "x"})
    (failure,) = [r for r in caplog.records if r.name == "agent_framework.hosting.responses"]
    assert failure.exc_info is not None
    assert "hunter2" in str(failure.exc_info[1])


def test_mid_stream_failure_sends_error_then_response_failed() -> None:
    with serve(error=RuntimeError("hunter2"), fail_after_updates=2) as server:
        body = {"input": "a b c d e f g h", "stream": True}
        raw = httpx.post(f"{server.base_url}/responses", json=body).text
        stream_call = sdk(server).responses.stream(model="m", input="a b c d e f g h")
        with pytest.raises(openai.APIError), stream_call as stream:
            stream.get_final_response()
    events = sse_events(raw)
    for event in events:
        validate_event(event)
    assert [e["type"] for e in events][-2:] == ["error", "response.failed"]
    assert events[-2]["error"]["code"] == "server_error"
    assert events[-1]["response"]["status"] == "failed"
    assert "hunter2" not in raw

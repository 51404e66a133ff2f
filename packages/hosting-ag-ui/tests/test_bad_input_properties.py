"""Generated bad input over a real server: never a 5xx, always AG-UI's ``RUN_ERROR``.

Each property sends what hypothesis generates — random JSON, a wrong value in each field
of a ``RunAgentInput``, random messages and content parts, tools and context, numbers
JSON cannot carry, deep nesting, huge strings, bytes that are not UTF-8, other content
types, odd run and thread ids in paths and odd ``Last-Event-ID`` headers — and checks
every answer: below 500; a ``RUN_ERROR`` event as the JSON body when it is not a
success; every streamed event one of the protocol's, a run's stream starting with
``RUN_STARTED`` and ending with ``RUN_FINISHED`` or ``RUN_ERROR``; a thread route's
success its documented body. Around each property, a thread stored before reads back
unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from ag_ui.core import RunErrorEvent, RunFinishedEvent, RunStartedEvent
from agent_framework import Agent
from agent_framework_hosting import AgentFrameworkHost
from agent_framework_hosting.testing import (
    BAD_INPUT_PROFILE,
    LoopbackServer,
    OfflineChatClient,
    header_text,
    json_values,
    not_utf8,
    odd_text,
    path_segment,
    unsendable_json,
    url_text,
)
from agent_framework_hosting_ag_ui import AGUIChannel
from hypothesis import example, given
from hypothesis import strategies as st

from ._agui import parse_sse, run_input, user_message

KEPT = "kept-thread-before-the-properties"
KEPT_RUN = "kept-run-before-the-properties"
FIELDS = ["threadId", "runId", "parentRunId", "state", "messages", "tools", "context"]
MESSAGE_FIELDS = ["id", "role", "content", "name", "toolCalls", "toolCallId"]
PART_FIELDS = ["type", "text", "source", "value", "mimeType", "url"]
values = json_values([*FIELDS, "forwardedProps", *MESSAGE_FIELDS, *PART_FIELDS])
ERROR_CODES = {
    "invalid_request",
    "unsupported_parameter",
    "unsupported_content",
    "unauthenticated",
    "permission_denied",
    "not_found",
    "method_not_allowed",
    "run_exists",
    "payload_too_large",
    "too_many_requests",
    "conversation_busy",
}
"""The codes a refusal before any event may carry (docs/ag-ui.md, Errors)."""


@dataclass(frozen=True)
class Stored:
    """The running host, and a thread with a finished run, as it read before the properties."""

    server: LoopbackServer
    thread: dict[str, Any]

    @property
    def url(self) -> str:
        return self.server.base_url + "/ag-ui"


def read_thread(server: LoopbackServer) -> Any:
    response = httpx.get(f"{server.base_url}/ag-ui/threads/{KEPT}")
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def stored() -> Iterator[Stored]:
    agent = Agent(client=OfflineChatClient(), name="helper")
    host = AgentFrameworkHost(agent, channels=[AGUIChannel()])
    with LoopbackServer(host.app) as server:
        body = run_input(KEPT, user_message("kept", message_id="kept-1"), runId=KEPT_RUN)
        ran = httpx.post(f"{server.base_url}/ag-ui", json=body, timeout=30)
        events, _ = parse_sse(ran.text)
        assert isinstance(events[-1], RunFinishedEvent), ran.text
        yield Stored(server, read_thread(server))


@pytest.fixture(autouse=True)
def the_stored_thread_is_unchanged(stored: Stored) -> Iterator[None]:
    yield
    assert read_thread(stored.server) == stored.thread


def post(stored: Stored, content: bytes, content_type: str = "application/json") -> Any:
    return httpx.post(
        stored.url, content=content, headers={"content-type": content_type}, timeout=30
    )


def post_json(stored: Stored, body: Any) -> httpx.Response:
    # ensure_ascii keeps lone surrogates sendable, as \ud800 escapes.
    return post(stored, json.dumps(body).encode())


def check_error(response: httpx.Response) -> None:
    """A refusal before any event: a 4xx whose JSON body is a ``RUN_ERROR`` event."""
    assert 400 <= response.status_code < 500, response.text
    assert response.headers.get("content-type", "").startswith("application/json"), response.text
    body = response.json()
    assert set(body) <= {"type", "message", "code", "timestamp", "rawEvent"}, body
    assert body["type"] == "RUN_ERROR", body
    assert isinstance(body["message"], str), body
    assert body["message"]
    assert body["code"] in ERROR_CODES, body
    RunErrorEvent.model_validate(body)


def check_stream(response: httpx.Response) -> None:
    """A run's events: the protocol's own, from ``RUN_STARTED`` (or a replay's start) to its end."""
    assert response.status_code == 200, response.text
    events, _ = parse_sse(response.text)
    assert events, response.text
    if isinstance(events[0], RunErrorEvent):  # refused as the stream opened
        assert len(events) == 1, response.text
        return
    replayed_after = response.request.method == "GET" and (
        response.request.url.params.get("after") or response.request.headers.get("last-event-id")
    )
    assert replayed_after or isinstance(events[0], RunStartedEvent), response.text
    assert isinstance(events[-1], RunFinishedEvent | RunErrorEvent), response.text


def check(response: httpx.Response) -> None:
    """Below 500: a run's stream, a thread route's JSON body, or a ``RUN_ERROR`` refusal."""
    assert response.status_code < 500, response.text
    assert "Traceback" not in response.text
    if response.status_code >= 400:
        check_error(response)
    elif response.headers.get("content-type", "").startswith("text/event-stream"):
        check_stream(response)
    else:
        assert response.status_code == 200, response.text
        assert isinstance(response.json(), dict), response.text


def test_random_json_bodies(stored: Stored) -> None:
    @BAD_INPUT_PROFILE
    @example(body={"threadId": "t", "runId": "r", "messages": [], "\ud800": None})
    @example(body=[run_input("t", user_message("hi"))])
    @given(body=values)
    def send(body: Any) -> None:
        check(post_json(stored, body))

    send()


def test_a_wrong_value_in_each_field(stored: Stored) -> None:
    @BAD_INPUT_PROFILE
    @example(field="threadId", value=5)
    @example(field="runId", value="")
    @example(field="state", value=[1, 2])
    @example(field="messages", value={"id": "m"})
    @example(field="runId", value=KEPT_RUN)
    @example(field="threadId", value=KEPT)  # its one message again: the run adds nothing
    @given(field=st.sampled_from([*FIELDS, "forwardedProps"]), value=values)
    def send(field: str, value: Any) -> None:
        body = run_input(f"field-{field}", user_message("kept", message_id="kept-1"))
        body[field] = value
        check(post_json(stored, body))

    send()


def _parts() -> st.SearchStrategy[Any]:
    sources = st.fixed_dictionaries(
        {},
        optional={
            "type": st.sampled_from(["data", "url", "file"]) | values,
            "value": st.sampled_from(["aGk=", "%%%", "https://example.com/a.png"]) | values,
            "mimeType": st.sampled_from(["image/png", "audio/wav", "x"]) | values,
        },
    )
    return st.fixed_dictionaries(
        {"type": st.sampled_from(["text", "image", "audio", "video", "document", "binary"])},
        optional={"text": odd_text | values, "source": sources | values},
    )


def _messages() -> st.SearchStrategy[Any]:
    tool_calls = st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                "id": odd_text | values,
                "type": st.just("function") | values,
                "function": st.fixed_dictionaries(
                    {}, optional={"name": odd_text, "arguments": odd_text | values}
                )
                | values,
            },
        ),
        max_size=2,
    )
    return st.fixed_dictionaries(
        {},
        optional={
            "id": odd_text | values,
            "role": st.sampled_from(
                ["user", "assistant", "system", "developer", "tool", "activity", "robot"]
            )
            | values,
            "content": odd_text | st.lists(_parts() | values, max_size=3) | values,
            "name": values,
            "toolCalls": tool_calls | values,
            "toolCallId": odd_text | values,
        },
    )


def test_random_messages_and_content_parts(stored: Stored) -> None:
    @BAD_INPUT_PROFILE
    @example(messages=[{"id": "m", "role": "user", "content": [{"type": "image"}]}])
    @example(messages=[{"id": "m", "role": "tool", "content": "x", "toolCallId": "nope"}])
    @example(messages=[{"id": "m", "role": "assistant", "toolCalls": [{"id": "c"}]}])
    @given(messages=st.lists(_messages() | values, min_size=1, max_size=3))
    def send(messages: list[Any]) -> None:
        check(post_json(stored, run_input("messages", *messages)))

    send()


def test_random_tools_context_and_state(stored: Stored) -> None:
    tools = st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                "name": st.sampled_from(["a", "a", "", "a b", "x" * 100]) | values,
                "description": values,
                "parameters": st.just({"type": "object"}) | values,
            },
        )
        | values,
        max_size=3,
    )
    context = st.lists(
        st.fixed_dictionaries({}, optional={"description": values, "value": values}) | values,
        max_size=3,
    )

    @BAD_INPUT_PROFILE
    @example(tools=[{"name": "a", "description": ""}] * 2, context=[], state={})
    @given(tools=tools | values, context=context | values, state=values)
    def send(tools: Any, context: Any, state: Any) -> None:
        body = run_input("tools", user_message("hello"), tools=tools, context=context, state=state)
        check(post_json(stored, body))

    send()


def test_odd_and_huge_strings(stored: Stored) -> None:
    @BAD_INPUT_PROFILE
    @example(text="a\u2028b\x85c", repeat=1, where="content")
    @given(
        text=odd_text,
        repeat=st.sampled_from([1, 1000, 100_000]),
        where=st.sampled_from(["content", "threadId", "runId", "id"]),
    )
    def send(text: str, repeat: int, where: str) -> None:
        value = text * repeat
        message = user_message("hello")
        body = run_input("strings", message)
        if where in ("content", "id"):
            message[where] = value
        else:
            body[where] = value
        check(post_json(stored, body))

    send()


def test_bodies_that_are_not_utf8_json(stored: Stored) -> None:
    @BAD_INPUT_PROFILE
    @given(content=not_utf8 | unsendable_json)
    def send(content: bytes) -> None:
        response = post(stored, content)
        check_error(response)

    send()


def test_other_content_types(stored: Stored) -> None:
    body = json.dumps(run_input("types", user_message("hello"))).encode()

    @BAD_INPUT_PROFILE
    @given(
        content_type=st.sampled_from(
            ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "", "json"]
        )
        | header_text,
    )
    def send(content_type: str) -> None:
        check(post(stored, body, content_type))

    send()


def test_odd_ids_in_paths_and_odd_last_event_ids(stored: Stored) -> None:
    routes = st.sampled_from(
        [
            ("GET", "/runs/{}"),
            ("POST", "/runs/{}/cancel"),
            ("GET", "/threads/{}"),
            ("DELETE", "/threads/{}"),
            ("GET", "/threads"),
        ]
    )
    counts = st.sampled_from(["", "0", "-1", "1e3", "99999999999999999999", "05"])
    ids = url_text.filter(bool) | st.sampled_from(
        ["%00", "a/b", "..", "x" * 10_000, KEPT, KEPT_RUN]
    )

    @BAD_INPUT_PROFILE
    @example(route=("GET", "/threads/{}"), item_id="a/b", after="", last_event_id="")
    @example(route=("GET", "/runs/{}"), item_id="unknown", after="x", last_event_id="x")
    @example(route=("GET", "/runs/{}"), item_id="unknown", after="-1", last_event_id="-1")
    @example(route=("GET", "/runs/{}"), item_id="..", after="", last_event_id="")
    @example(
        route=("GET", "/runs/{}"), item_id=KEPT_RUN, after="99999999999999999999", last_event_id=""
    )
    @given(
        route=routes,
        item_id=ids,
        after=counts | st.just("٣") | url_text,
        last_event_id=counts | header_text,
    )
    def send(route: tuple[str, str], item_id: str, after: str, last_event_id: str) -> None:
        method, template = route
        if method == "DELETE" and item_id == KEPT:
            return  # forgetting the kept thread is a success, not bad input
        path = template.format(path_segment(item_id))
        response = httpx.request(
            method,
            stored.url + path,
            params={"after": after},
            headers={"last-event-id": last_event_id},
        )
        check(response)

    send()

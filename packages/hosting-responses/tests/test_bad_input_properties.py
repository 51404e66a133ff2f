"""Generated bad input over a real server: never a 5xx, always the OpenAI error shape.

Each property sends what hypothesis generates — random JSON, a wrong value in each field,
random tool lists, unknown item types, odd and huge strings, bytes that are not UTF-8,
random paging queries and random ids — and checks every answer: below 500, a JSON error
in the OpenAI shape when it is not a success, every success and every event valid
against the spec. A value of the wrong type or out of range for an accepted field is a
400 naming that field, never a success. Afterwards the responses and the conversation
stored before are retrieved unchanged. The agent has a tool of its own, ``current_time``,
which a declared tool must not be named after.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import quote

import httpx
import pytest
from agent_framework import Agent, Content, tool
from agent_framework_hosting.testing import LoopbackServer, OfflineChatClient
from hypothesis import example, given
from hypothesis import strategies as st

from ._clients import sdk, serve, user_item
from ._schema import sse_events, validate_body
from ._strategies import FIELDS, PROFILE, json_values, odd_text

item_types = st.sampled_from(
    [
        "message",
        "function_call",
        "function_call_output",
        "reasoning",
        "image_generation_call",
        "compaction",
        "item_reference",
        "web_search_call",
        "mystery",
    ]
)
items = st.fixed_dictionaries(
    {"type": item_types},
    optional={
        "id": json_values,
        "role": st.sampled_from(["user", "assistant", "system", "developer", "tool"]) | json_values,
        "content": json_values,
        "call_id": json_values,
        "name": json_values,
        "arguments": json_values,
        "output": json_values,
        "summary": json_values,
        "result": json_values,
        "encrypted_content": json_values,
    },
)


@tool
def current_time() -> str:
    """Return the current time."""
    return "12:00"


tool_names = st.sampled_from(["a", "b", "current_time", "", "a b", "x" * 65, "ü"])
tools = st.fixed_dictionaries(
    {"type": st.sampled_from(["function", "web_search"]) | json_values},
    optional={
        "name": tool_names | json_values,
        "description": json_values,
        "parameters": st.just({"type": "object"}) | json_values,
        "strict": json_values,
    },
)
tool_choices = (
    st.sampled_from(["auto", "none", "required"])
    | st.fixed_dictionaries(
        {"type": st.sampled_from(["function", "allowed_tools"])}, optional={"name": tool_names}
    )
    | json_values
)


def _number(lowest: float, highest: float) -> Callable[[Any], bool]:
    return lambda value: (
        value is None
        or (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and lowest <= value <= highest
        )
    )


def _of(kind: type) -> Callable[[Any], bool]:
    return lambda value: (
        value is None or (isinstance(value, kind) and (kind is bool or not isinstance(value, bool)))
    )


def _short(value: Any) -> bool:
    return value is None or (isinstance(value, str) and len(value) <= 64)


def _stream_options(value: Any) -> bool:
    return value is None or (
        isinstance(value, dict)
        and set(cast("dict[str, Any]", value)) <= {"include_obfuscation"}
        and _of(bool)(cast("dict[str, Any]", value).get("include_obfuscation"))
    )


def _metadata(value: Any) -> bool:
    if value is None:
        return True
    if not isinstance(value, dict):
        return False
    pairs = cast("dict[Any, Any]", value)
    return len(pairs) <= 16 and all(
        isinstance(key, str) and len(key) <= 64 and isinstance(text, str) and len(text) <= 512
        for key, text in pairs.items()
    )


VALID: dict[str, Callable[[Any], bool]] = {
    "temperature": _number(0, 2),
    "top_p": _number(0, 1),
    "presence_penalty": _number(-2, 2),
    "frequency_penalty": _number(-2, 2),
    "max_output_tokens": lambda value: value is None or (type(value) is int and value >= 16),
    "stream": _of(bool),
    "store": _of(bool),
    "background": _of(bool),
    "parallel_tool_calls": _of(bool),
    "model": _of(str),
    "instructions": _of(str),
    "user": _of(str),
    "previous_response_id": _of(str),
    "safety_identifier": _short,
    "prompt_cache_key": _short,
    "service_tier": lambda value: value in (None, "auto", "default", "flex", "priority"),
    "stream_options": _stream_options,
    "metadata": _metadata,
}
"""What each accepted field takes, as the spec's schema (and its descriptions) say."""


@dataclass(frozen=True)
class Stored:
    """What the server held before the properties ran, as the SDK read it."""

    server: LoopbackServer
    response_ids: list[str]
    conversation_id: str
    snapshot: dict[str, Any]
    scratch_id: str
    """A conversation outside the snapshot, which generated bodies may change."""


def snapshot(server: LoopbackServer, response_ids: list[str], conversation_id: str) -> Any:
    """Every stored object and listing, raw."""
    base = server.base_url
    state: dict[str, Any] = {}
    for response_id in response_ids:
        state[response_id] = httpx.get(f"{base}/responses/{response_id}").json()
        listing = httpx.get(f"{base}/responses/{response_id}/input_items", params={"limit": 100})
        state[f"{response_id}/input_items"] = listing.json()
    state[conversation_id] = httpx.get(f"{base}/conversations/{conversation_id}").json()
    items = httpx.get(f"{base}/conversations/{conversation_id}/items", params={"limit": 100})
    state[f"{conversation_id}/items"] = items.json()
    return state


@pytest.fixture(scope="module")
def stored() -> Iterator[Stored]:
    image = Content.from_data(b"\x89PNG\r\n\x1a\n", "image/png")
    client = OfflineChatClient(reasoning="Thinking", image=image)
    with serve(agent=Agent(client=client, tools=[current_time])) as server:
        client = sdk(server)
        first = client.responses.create(model="m", input="first")
        second = client.responses.create(model="m", input="second", previous_response_id=first.id)
        conversation = client.conversations.create(items=[user_item("kept")])
        client.responses.create(model="m", input="in it", conversation=conversation.id)
        ids = [first.id, second.id]
        scratch = client.conversations.create()
        state = snapshot(server, ids, conversation.id)
        yield Stored(server, ids, conversation.id, state, scratch.id)


@pytest.fixture(autouse=True)
def nothing_stored_changes(stored: Stored) -> Iterator[None]:
    yield
    assert snapshot(stored.server, stored.response_ids, stored.conversation_id) == stored.snapshot


def check(response: httpx.Response) -> None:
    """Below 500; an error in the OpenAI shape; a success valid against the spec."""
    assert response.status_code < 500, response.text
    content_type = response.headers.get("content-type", "")
    if content_type.startswith("text/event-stream"):
        assert response.status_code == 200
        sse_events(response.text)
        return
    assert content_type.startswith("application/json"), (response.status_code, response.text)
    body = response.json()
    if response.status_code >= 400:
        assert set(body) == {"error"}, body
        error = body["error"]
        assert set(error) == {"message", "type", "param", "code"}, error
        assert isinstance(error["message"], str)
        assert error["message"]
        assert error["type"] == "invalid_request_error"
        assert error["param"] is None or isinstance(error["param"], str)
        assert error["code"] is None or isinstance(error["code"], str)
        assert "Traceback" not in response.text
    validate_body(body)


def post_raw(server: LoopbackServer, path: str, content: bytes) -> httpx.Response:
    return httpx.post(
        f"{server.base_url}{path}",
        content=content,
        headers={"content-type": "application/json"},
        timeout=30,
    )


def post_json(server: LoopbackServer, path: str, body: Any) -> httpx.Response:
    # ensure_ascii keeps lone surrogates sendable, as \ud800 escapes.
    return post_raw(server, path, json.dumps(body).encode())


def test_random_json_bodies(stored: Stored) -> None:
    paths = st.sampled_from(
        [
            "/responses",
            "/responses/compact",
            "/conversations",
            f"/conversations/{stored.scratch_id}",
            f"/conversations/{stored.scratch_id}/items",
        ]
    )

    @PROFILE
    @example(body={"\ud800": None}, path="/responses")
    @example(body={"model": "m", "input": "a\udfffb"}, path="/responses")
    @given(body=json_values, path=paths)
    def send(body: Any, path: str) -> None:
        check(post_json(stored.server, path, body))

    send()


def test_a_wrong_value_in_each_field(stored: Stored) -> None:
    @PROFILE
    @given(field=st.sampled_from(FIELDS), value=json_values)
    def send(field: str, value: Any) -> None:
        body = {"model": "m", "input": "hello", field: value}
        check(post_json(stored.server, "/responses", body))

    send()


def test_a_wrong_type_or_value_in_an_accepted_field_is_a_400_naming_it(stored: Stored) -> None:
    wrong = st.sampled_from(sorted(VALID)).flatmap(
        lambda field: st.tuples(
            st.just(field),
            json_values.filter(lambda value: not VALID[field](value) and _sendable_json(value)),
        )
    )

    @PROFILE
    @example(pair=("presence_penalty", "high"))
    @example(pair=("service_tier", "fast"))
    @example(pair=("stream_options", {"include_obfuscation": 1}))
    @given(pair=wrong)
    def send(pair: tuple[str, Any]) -> None:
        field, value = pair
        response = post_json(stored.server, "/responses", {"input": "hello", field: value})
        check(response)
        assert response.status_code == 400, (field, value, response.text)
        param = response.json()["error"]["param"]
        assert param == field or param.startswith(f"{field}."), (field, param)

    send()


def test_random_tool_lists_are_never_a_5xx(stored: Stored) -> None:
    @PROFILE
    @example(declared=[{"type": "function", "name": "a"}] * 2, choice=None, stream=True)
    @example(declared=[{"type": "function", "name": "current_time"}], choice="auto", stream=False)
    @given(
        declared=st.lists(tools, max_size=4),
        choice=st.none() | tool_choices,
        stream=st.booleans(),
    )
    def send(declared: list[dict[str, Any]], choice: Any, stream: bool) -> None:
        body = {"input": "hello", "tools": declared, "tool_choice": choice, "stream": stream}
        check(post_json(stored.server, "/responses", body))

    send()


def test_a_declared_tool_name_is_new_to_the_request_and_to_the_agent(stored: Stored) -> None:
    @PROFILE
    @given(names=st.lists(st.sampled_from(["a", "b", "c", "current_time"]), max_size=4))
    def send(names: list[str]) -> None:
        declared = [{"type": "function", "name": name} for name in names]
        response = post_json(stored.server, "/responses", {"input": "hello", "tools": declared})
        check(response)
        clash = next(
            (
                index
                for index, name in enumerate(names)
                if name == "current_time" or name in names[:index]
            ),
            None,
        )
        if clash is None:
            assert response.status_code == 200, response.text
            assert [tool["name"] for tool in response.json()["tools"]] == names
        else:
            assert response.status_code == 400, response.text
            assert response.json()["error"]["param"] == f"tools[{clash}].name"

    send()


def test_unknown_and_malformed_input_items(stored: Stored) -> None:
    @PROFILE
    @given(input_items=st.lists(items, min_size=1, max_size=3), stream=st.booleans())
    def send(input_items: list[dict[str, Any]], stream: bool) -> None:
        body = {"model": "m", "input": input_items, "stream": stream}
        check(post_json(stored.server, "/responses", body))

    send()


def test_odd_and_huge_strings(stored: Stored) -> None:
    @PROFILE
    @given(
        text=odd_text,
        repeat=st.sampled_from([1, 1000, 100_000]),
        where=st.sampled_from(["input", "instructions", "model", "user", "metadata"]),
    )
    def send(text: str, repeat: int, where: str) -> None:
        value: Any = text * repeat
        body: dict[str, Any] = {"model": "m", "input": "hello"}
        body[where] = {"key": value} if where == "metadata" else value
        check(post_json(stored.server, "/responses", body))

    send()


def test_bodies_that_are_not_utf8_json(stored: Stored) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000

    @PROFILE
    @example(content=deep, path="/responses")
    @example(content=deep, path="/conversations")
    @given(
        content=st.binary(max_size=64).filter(lambda raw: not _is_utf8(raw))
        | st.binary(max_size=64).map(lambda raw: b'{"input": "' + raw + b'"}'),
        path=st.sampled_from(["/responses", "/conversations", "/responses/compact"]),
    )
    def send(content: bytes, path: str) -> None:
        check(post_raw(stored.server, path, content))

    send()


def test_random_paging_queries_for_input_items(stored: Stored) -> None:
    keys = st.sampled_from(["limit", "order", "after", "include", "before"]) | odd_text
    values = (
        st.sampled_from(["asc", "desc", "0", "1", "100", "101", "-1", "1e3", " 5", "٣"])
        | st.integers().map(str)
        | odd_text
    )

    @PROFILE
    @given(query=st.lists(st.tuples(keys, values), max_size=4), index=st.sampled_from([0, 1]))
    def send(query: list[tuple[str, str]], index: int) -> None:
        response_id = stored.response_ids[index]
        params: list[tuple[str, str | int | float | bool | None]] = [
            (_sendable(key), _sendable(value)) for key, value in query
        ]
        response = httpx.get(
            f"{stored.server.base_url}/responses/{response_id}/input_items", params=params
        )
        assert response.status_code in (200, 400), response.text
        check(response)

    send()


def test_random_ids_for_get_delete_and_cancel(stored: Stored) -> None:
    routes = st.sampled_from(
        [
            ("GET", "/responses/{}"),
            ("DELETE", "/responses/{}"),
            ("POST", "/responses/{}/cancel"),
            ("GET", "/responses/{}/input_items"),
            ("GET", "/conversations/{}"),
            ("DELETE", "/conversations/{}"),
            ("GET", "/conversations/{}/items"),
            ("GET", "/conversations/" + "{}" + "/items/{}"),
        ]
    )
    ids = odd_text.filter(bool) | st.sampled_from(["resp_" + "0" * 48, "conv_x", "%00", "a/b"])

    @PROFILE
    @example(route=("GET", "/responses/{}"), item_id="0/")
    @example(route=("POST", "/responses/{}/cancel"), item_id="a/b/c")
    @example(route=("GET", "/conversations/{}"), item_id="conv\nx")
    @example(route=("DELETE", "/responses/{}"), item_id="resp\r\n")
    @given(route=routes, item_id=ids)
    def send(route: tuple[str, str], item_id: str) -> None:
        method, template = route
        quoted = quote(_sendable(item_id), safe="")
        path = template.format(*[quoted] * template.count("{}"))
        response = httpx.request(method, f"{stored.server.base_url}{path}", timeout=30)
        assert 400 <= response.status_code < 500, response.text
        check(response)

    send()


def _sendable_json(value: Any) -> bool:
    """Whether ``value`` holds no lone surrogate (a body with one is refused before its fields)."""
    try:
        json.dumps(value, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return False
    return True


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode()
    except UnicodeDecodeError:
        return False
    return True


def _sendable(text: str) -> str:
    """``text`` as a URL can carry it: a lone surrogate cannot be encoded, so it is replaced."""
    return text.encode("utf-8", "replace").decode()

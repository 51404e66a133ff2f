"""Generated bad input over a real server: never a 5xx, always the OpenAI error shape.

Each property sends what hypothesis generates — random JSON, a wrong value in each field,
unknown item types, odd and huge strings, bytes that are not UTF-8, random paging
queries and random ids — and checks every answer: below 500, a JSON error in the
OpenAI shape when it is not a success, every success and every event valid against the
spec. Afterwards the responses and the conversation stored before are retrieved
unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from agent_framework import Content
from agent_framework_hosting.testing import LoopbackServer
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
    with serve(reasoning="Thinking", image=image) as server:
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
    @given(route=routes, item_id=ids)
    def send(route: tuple[str, str], item_id: str) -> None:
        method, template = route
        quoted = quote(_sendable(item_id), safe="")
        path = template.format(*[quoted] * template.count("{}"))
        response = httpx.request(method, f"{stored.server.base_url}{path}", timeout=30)
        assert 400 <= response.status_code < 500, response.text
        if "\n" in item_id:
            # Route patterns never match a newline: the host's router answers, not a channel.
            assert response.status_code == 404
            return
        check(response)

    send()


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode()
    except UnicodeDecodeError:
        return False
    return True


def _sendable(text: str) -> str:
    """``text`` as a URL can carry it: a lone surrogate cannot be encoded, so it is replaced."""
    return text.encode("utf-8", "replace").decode()

"""Partitions: a caller never reaches another caller's objects, and nothing of them changes.

Alice creates stored responses, background runs (one streamed), a conversation with
items; bob (another key) and an anonymous caller try every endpoint on her ids, over
HTTP and a WebSocket: every answer is 404 (bob) or 401 (anonymous), none names what it
found, and alice's objects read the same afterwards. Callers known only by trusted
isolation headers are partitions too: no two distinct (user, chat) pairs share a
session, or a stored object.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from agent_framework_hosting import (
    ISOLATION_HEADER_CHAT,
    ISOLATION_HEADER_USER,
    ApiKeyAuthenticator,
)
from agent_framework_hosting.testing import LoopbackServer

from ._clients import connect, refusal, sdk, serve, settled, turn, user_item

KEYS = {"key-alice": "alice", "key-bob": "bob"}


class Alice:
    """What alice made, and how it read when made."""

    def __init__(self, server: LoopbackServer) -> None:
        client = sdk(server, api_key="key-alice")
        self.stored = client.responses.create(model="m", input="alice's secret")
        self.background = client.responses.create(model="m", input="alice bg", background=True)
        events = list(
            client.responses.create(model="m", input="alice streamed", background=True, stream=True)
        )
        self.streamed_id = events[0].response.id  # pyright: ignore[reportAttributeAccessIssue]
        self.conversation = client.conversations.create(items=[user_item("alice's note")])
        self.in_conversation = client.responses.create(
            model="m", input="alice talks", conversation=self.conversation.id
        )
        item = client.conversations.items.list(self.conversation.id).data[0]
        self.item_id: str = item.id  # pyright: ignore[reportAttributeAccessIssue]
        # Settled, so that every later read is the same.
        assert settled(client, self.background.id).status == "completed"
        self.snapshot = self.read(server)

    def read(self, server: LoopbackServer) -> dict[str, Any]:
        """Everything of alice's, as she reads it."""
        headers = {"Authorization": "Bearer key-alice"}

        def get(path: str) -> Any:
            response = httpx.get(server.base_url + path, headers=headers)
            assert response.status_code == 200, response.text
            return response.json()

        ids = [self.stored.id, self.background.id, self.streamed_id, self.in_conversation.id]
        state: dict[str, Any] = {}
        for response_id in ids:
            state[response_id] = get(f"/responses/{response_id}")
            state[f"{response_id}/items"] = get(f"/responses/{response_id}/input_items")
        state["conversation"] = get(f"/conversations/{self.conversation.id}")
        state["items"] = get(f"/conversations/{self.conversation.id}/items")
        return state


@pytest.fixture(scope="module")
def partitioned() -> Iterator[tuple[LoopbackServer, Alice]]:
    with serve(auth=ApiKeyAuthenticator(KEYS)) as server:
        yield server, Alice(server)


def attempts(alice: Alice) -> list[tuple[str, str, Any]]:
    """Every request a caller can make on alice's ids."""
    conversation, item = alice.conversation.id, alice.item_id
    requests: list[tuple[str, str, Any]] = []
    for response_id in (alice.stored.id, alice.background.id, alice.streamed_id):
        requests += [
            ("GET", f"/responses/{response_id}", None),
            ("GET", f"/responses/{response_id}?stream=true", None),
            ("GET", f"/responses/{response_id}/input_items", None),
            ("POST", f"/responses/{response_id}/cancel", None),
            ("DELETE", f"/responses/{response_id}", None),
            (
                "POST",
                "/responses",
                {"model": "m", "input": "x", "previous_response_id": response_id},
            ),
            (
                "POST",
                "/responses",
                {"model": "m", "input": "x", "previous_response_id": response_id, "stream": True},
            ),
            ("POST", "/responses/compact", {"model": "m", "previous_response_id": response_id}),
        ]
    requests += [
        ("GET", f"/conversations/{conversation}", None),
        ("POST", f"/conversations/{conversation}", {"metadata": {"owner": "bob"}}),
        ("GET", f"/conversations/{conversation}/items", None),
        ("POST", f"/conversations/{conversation}/items", {"items": [user_item("bob was here")]}),
        ("GET", f"/conversations/{conversation}/items/{item}", None),
        ("DELETE", f"/conversations/{conversation}/items/{item}", None),
        ("DELETE", f"/conversations/{conversation}", None),
        ("POST", "/responses", {"model": "m", "input": "x", "conversation": conversation}),
    ]
    return requests


@pytest.mark.parametrize(("caller", "status"), [("key-bob", 404), (None, 401)])
def test_another_caller_reaches_none_of_alices_objects(
    partitioned: tuple[LoopbackServer, Alice], caller: str | None, status: int
) -> None:
    server, alice = partitioned
    headers = {"Authorization": f"Bearer {caller}"} if caller else {}
    answers = [
        (method, path, httpx.request(method, server.base_url + path, json=body, headers=headers))
        for method, path, body in attempts(alice)
    ]
    wrong = [(m, p, r.status_code) for m, p, r in answers if r.status_code != status]
    assert wrong == []
    leaked = [p for _, p, r in answers if "alice" in r.text]
    assert leaked == []
    assert alice.read(server) == alice.snapshot


def test_a_websocket_continuation_of_alices_response_is_not_found(
    partitioned: tuple[LoopbackServer, Alice],
) -> None:
    server, alice = partitioned
    with connect(server, api_key="key-bob") as connection:
        connection.response.create(model="m", input="x", previous_response_id=alice.stored.id)
        error = refusal(turn(connection))
    assert (error.status, error.error.code) == (404, "previous_response_not_found")
    assert alice.read(server) == alice.snapshot


def test_the_same_isolation_headers_under_two_principals_are_two_conversations(
    partitioned: tuple[LoopbackServer, Alice],
) -> None:
    server, _ = partitioned
    headers = {ISOLATION_HEADER_USER: "shared", ISOLATION_HEADER_CHAT: "room"}

    def say(key: str, text: str) -> str:
        client = sdk(server, api_key=key)
        return client.responses.create(model="m", input=text, extra_headers=headers).output_text

    assert say("key-alice", "a1") == "Echo: a1 (turn 1)"
    assert say("key-alice", "a2") == "Echo: a2 (turn 2)"
    assert say("key-bob", "b1") == "Echo: b1 (turn 1)"


PAIRS = [
    ("a", None),
    (None, "a"),
    ("a", "b"),
    ("b", "a"),
    ("a:b", None),
    ("a", "b:c"),
    ("a:b", "c"),
    ("a%3Ab", None),
    ("@a", None),
    ("a|b", None),
]
"""(user, chat) isolation keys that a careless encoding would let meet."""


def _headers(user: str | None, chat: str | None) -> dict[str, str]:
    headers = {ISOLATION_HEADER_USER: user} if user else {}
    return headers | ({ISOLATION_HEADER_CHAT: chat} if chat else {})


def test_no_two_isolation_key_pairs_share_a_session_or_a_stored_object() -> None:
    with serve() as server:
        client = sdk(server)
        made: dict[tuple[str | None, str | None], str] = {}
        for user, chat in PAIRS:
            response = client.responses.create(
                model="m", input=f"{user}/{chat}", extra_headers=_headers(user, chat)
            )
            assert response.output_text == f"Echo: {user}/{chat} (turn 1)", (user, chat)
            made[(user, chat)] = response.id
        for (owner, response_id), reader in itertools.product(made.items(), PAIRS):
            answer = httpx.get(
                f"{server.base_url}/responses/{response_id}", headers=_headers(*reader)
            )
            assert answer.status_code == (200 if reader == owner else 404), (owner, reader)

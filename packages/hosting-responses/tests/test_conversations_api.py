"""The Conversations API over a real socket: the SDK in strict mode, every body validated."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import httpx
import openai
import pytest
from agent_framework_hosting_responses import ResponsesChannel
from hypothesis import given, settings
from hypothesis import strategies as st
from openai.types.conversations import Message

from ._clients import async_sdk, host_for, id_of, post, sdk, serve, texts, user_item

ALICE, MALLORY = "alice", "mallory"


def test_a_conversation_is_created_retrieved_updated_and_deleted() -> None:
    with serve() as server:
        client = sdk(server)
        created = client.conversations.create(metadata={"topic": "weather"})
        assert created.id.startswith("conv_")
        assert created.object == "conversation"
        assert created.metadata == {"topic": "weather"}
        assert client.conversations.retrieve(created.id) == created
        updated = client.conversations.update(created.id, metadata={"topic": "rain"})
        assert updated.metadata == {"topic": "rain"}
        assert client.conversations.retrieve(created.id).metadata == {"topic": "rain"}
        deleted = client.conversations.delete(created.id)
        assert (deleted.id, deleted.deleted, deleted.object) == (
            created.id,
            True,
            "conversation.deleted",
        )
        with pytest.raises(openai.NotFoundError):
            client.conversations.retrieve(created.id)
        with pytest.raises(openai.NotFoundError):
            client.conversations.delete(created.id)


def test_an_empty_create_and_a_null_metadata_update_are_accepted() -> None:
    with serve() as server:
        client = sdk(server)
        created = client.conversations.create()
        assert created.metadata == {}
        assert client.conversations.update(created.id, metadata=None).metadata == {}
        assert list(client.conversations.items.list(created.id)) == []


def test_items_are_added_retrieved_and_deleted() -> None:
    with serve() as server:
        client = sdk(server)
        conversation = client.conversations.create(items=[user_item("first")])
        added = client.conversations.items.create(
            conversation.id,
            items=[
                user_item("second"),
                {"type": "message", "role": "assistant", "content": "third"},
            ],
        )
        assert texts(added.data) == ["second", "third"]
        assert (added.first_id, added.last_id) == (added.data[0].id, added.data[-1].id)
        assert not added.has_more
        item = client.conversations.items.retrieve(added.first_id, conversation_id=conversation.id)
        assert isinstance(item, Message)
        assert (item.role, item.status) == ("user", "completed")
        after_delete = client.conversations.items.delete(
            added.first_id, conversation_id=conversation.id
        )
        assert after_delete.id == conversation.id
        with pytest.raises(openai.NotFoundError):
            client.conversations.items.retrieve(added.first_id, conversation_id=conversation.id)
        with pytest.raises(openai.NotFoundError):
            client.conversations.items.delete(added.first_id, conversation_id=conversation.id)
        remaining = client.conversations.items.list(conversation.id, order="asc")
        assert texts(remaining.data) == ["first", "third"]


def test_function_call_items_keep_their_ids() -> None:
    with serve() as server:
        client = sdk(server)
        conversation = client.conversations.create(
            items=[
                {
                    "type": "function_call",
                    "id": "fc_1",
                    "call_id": "call_1",
                    "name": "lookup",
                    "arguments": "{}",
                },
                {"type": "function_call_output", "call_id": "call_1", "output": "42"},
            ]
        )
        call, output = client.conversations.items.list(conversation.id, order="asc").data
        assert (call.type, call.id) == ("function_call", "fc_1")
        assert output.type == "function_call_output"


def test_the_auto_pager_walks_every_item_in_either_order() -> None:
    words = [f"item {n}" for n in range(7)]
    with serve() as server:
        client = sdk(server)
        conversation = client.conversations.create(items=[user_item(w) for w in words[:4]])
        client.conversations.items.create(conversation.id, items=[user_item(w) for w in words[4:]])
        first_page = client.conversations.items.list(conversation.id, limit=3)
        assert first_page.has_more
        assert texts(first_page.data) == words[::-1][:3]
        assert (
            texts(list(client.conversations.items.list(conversation.id, limit=3))) == (words[::-1])
        )
        ascending = client.conversations.items.list(conversation.id, limit=2, order="asc")
        assert texts(list(ascending)) == words
        after = client.conversations.items.list(
            conversation.id, order="asc", after=id_of(first_page.data[0])
        )
        assert texts(after.data) == []
        assert not after.has_more


async def test_the_async_client_manages_conversations_and_pages_items() -> None:
    with serve() as server:
        client = async_sdk(server, user=ALICE)
        conversation = await client.conversations.create(
            items=[user_item(f"n{n}") for n in range(5)], metadata={"k": "v"}
        )
        assert (await client.conversations.retrieve(conversation.id)).metadata == {"k": "v"}
        pager = client.conversations.items.list(conversation.id, limit=2, order="asc")
        assert texts([item async for item in pager]) == [f"n{n}" for n in range(5)]
        added = await client.conversations.items.create(conversation.id, items=[user_item("n5")])
        item = await client.conversations.items.retrieve(
            added.first_id,
            conversation_id=conversation.id,
            include=["message.input_image.image_url"],
        )
        assert texts([item]) == ["n5"]
        await client.conversations.items.delete(added.first_id, conversation_id=conversation.id)
        assert (await client.conversations.delete(conversation.id)).deleted
        with pytest.raises(openai.NotFoundError):
            await client.conversations.retrieve(conversation.id)
        await client.close()


def test_another_partitions_conversation_is_not_found_anywhere() -> None:
    with serve() as server:
        alice, mallory = sdk(server, user=ALICE), sdk(server, user=MALLORY)
        mine = alice.conversations.create(items=[user_item("secret")], metadata={"a": "b"})
        item_id = id_of(alice.conversations.items.list(mine.id).data[0])
        attempts: list[Any] = [
            lambda: mallory.conversations.retrieve(mine.id),
            lambda: mallory.conversations.update(mine.id, metadata={"a": "x"}),
            lambda: mallory.conversations.delete(mine.id),
            lambda: mallory.conversations.items.list(mine.id),
            lambda: mallory.conversations.items.create(mine.id, items=[user_item("in")]),
            lambda: mallory.conversations.items.retrieve(item_id, conversation_id=mine.id),
            lambda: mallory.conversations.items.delete(item_id, conversation_id=mine.id),
            lambda: mallory.responses.create(model="m", input="hi", conversation=mine.id),
            lambda: sdk(server).conversations.retrieve(mine.id),
        ]
        for attempt in attempts:
            with pytest.raises(openai.NotFoundError) as caught:
                attempt()
            assert "not found" in caught.value.message
        assert alice.conversations.retrieve(mine.id).metadata == {"a": "b"}
        assert texts(alice.conversations.items.list(mine.id).data) == ["secret"]
        status, missing = post(server, "/conversations/conv_nope", {"metadata": {}})
    assert status == 404
    assert (missing["error"]["code"], missing["error"]["param"]) == ("not_found", "conversation_id")


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        ("/conversations", {"mystery": 1}, "mystery"),
        ("/conversations", {"items": "hello"}, "items"),
        ("/conversations", {"items": [user_item(str(n)) for n in range(21)]}, "items"),
        ("/conversations", {"items": [{"role": "robot", "content": "x"}]}, "items[0].role"),
        ("/conversations", {"metadata": {"k": 1}}, "metadata"),
        ("/conversations", [], None),
        ("{conversation}", {}, "metadata"),
        ("{conversation}", {"metadata": {}, "items": []}, "items"),
        ("{conversation}/items", {"items": []}, "items"),
        ("{conversation}/items", {}, "items"),
        (
            "{conversation}/items",
            {"items": [{"type": "function_call_output", "call_id": "c", "output": "x", "id": "o"}]},
            "items[0].id",
        ),
    ],
)
def test_bad_input_is_a_400_and_changes_nothing(path: str, body: Any, param: str | None) -> None:
    with serve() as server:
        client = sdk(server)
        conversation = client.conversations.create(
            items=[{"type": "function_call_output", "call_id": "c", "output": "x", "id": "o"}],
            metadata={"keep": "me"},
        )
        url = path.replace("{conversation}", f"/conversations/{conversation.id}")
        status, answer = post(server, url, body)
        assert status == 400
        assert answer["error"]["type"] == "invalid_request_error"
        assert answer["error"]["param"] == param
        assert client.conversations.retrieve(conversation.id).metadata == {"keep": "me"}
        assert len(client.conversations.items.list(conversation.id).data) == 1


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("limit=0", "limit"),
        ("order=up", "order"),
        ("after=nope", "after"),
        ("include=x", "include"),
    ],
)
def test_bad_paging_is_a_400(query: str, param: str) -> None:
    with serve() as server:
        conversation = sdk(server).conversations.create(items=[user_item("x")])
        response = httpx.get(f"{server.base_url}/conversations/{conversation.id}/items?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


def test_malformed_and_oversized_bodies_are_answered_in_the_error_shape() -> None:
    with serve(ResponsesChannel(max_body_bytes=64)) as server:
        malformed = httpx.post(f"{server.base_url}/conversations", content=b"{nope")
        oversized = httpx.post(
            f"{server.base_url}/conversations", json={"metadata": {"k": "v" * 100}}
        )
    assert (malformed.status_code, malformed.json()["error"]["code"]) == (400, "invalid_json")
    assert (oversized.status_code, oversized.json()["error"]["code"]) == (413, "request_too_large")


def test_conversations_survive_a_new_host_on_the_same_state_dir(tmp_path: Path) -> None:
    with serve(state_dir=tmp_path) as server:
        client = sdk(server, user=ALICE)
        conversation = client.conversations.create(metadata={"k": "v"})
        client.responses.create(model="m", input="one", conversation=conversation.id)
        client.conversations.items.create(conversation.id, items=[user_item("aside")])
    with serve(state_dir=tmp_path) as server:
        client = sdk(server, user=ALICE)
        assert client.conversations.retrieve(conversation.id).metadata == {"k": "v"}
        reply = client.responses.create(model="m", input="two", conversation=conversation.id)
        assert reply.output_text == "Echo: two (turn 3)"
        items = client.conversations.items.list(conversation.id, order="asc").data
        assert texts(items) == ["one", "Echo: one (turn 1)", "aside", "two", reply.output_text]
        with pytest.raises(openai.NotFoundError):
            sdk(server, user=MALLORY).conversations.retrieve(conversation.id)


def test_the_api_is_mounted_beside_a_v1_path() -> None:
    with serve(ResponsesChannel(path="/v1/responses")) as server:
        client = sdk(server, base_path="/v1")
        conversation = client.conversations.create()
        reply = client.responses.create(model="m", input="hi", conversation=conversation.id)
        assert reply.conversation is not None
        assert reply.conversation.id == conversation.id
        assert httpx.post(f"{server.base_url}/conversations").status_code == 404


def test_the_conversations_path_is_configurable() -> None:
    channel = ResponsesChannel(conversations_path="/threads")
    assert channel.conversations_path == "/threads"
    with serve(channel) as server:
        created = httpx.post(f"{server.base_url}/threads", json={})
        assert created.status_code == 200
        assert httpx.get(f"{server.base_url}/threads/{created.json()['id']}").status_code == 200


def test_a_conversations_path_colliding_with_another_channel_is_rejected() -> None:
    host = host_for(ResponsesChannel(path="/api/responses", conversations_path="/api"))
    with pytest.raises(ValueError, match="'responses'"):
        _ = host.app


def test_the_default_conversations_path_sits_beside_the_responses_path() -> None:
    assert ResponsesChannel().conversations_path == "/conversations"
    assert ResponsesChannel(path="/v1/responses").conversations_path == "/v1/conversations"
    assert ResponsesChannel(path="").conversations_path == "/conversations"


def test_the_pager_walks_any_conversation_whole_and_in_order() -> None:
    with serve() as server:
        client = sdk(server)

        @settings(max_examples=30, deadline=None)
        @given(
            count=st.integers(0, 45),
            limit=st.integers(1, 12),
            order=st.sampled_from(["asc", "desc"]),
        )
        def walk(count: int, limit: int, order: Literal["asc", "desc"]) -> None:
            words = [f"w{n}" for n in range(count)]
            conversation = client.conversations.create(items=[user_item(w) for w in words[:20]])
            for start in range(20, count, 20):
                batch = [user_item(w) for w in words[start : start + 20]]
                client.conversations.items.create(conversation.id, items=batch)
            pager = client.conversations.items.list(conversation.id, limit=limit, order=order)
            assert texts(list(pager)) == (words if order == "asc" else words[::-1])

        walk()

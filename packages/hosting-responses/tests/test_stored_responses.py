"""Stored responses: retrieve, delete, list input items, and survive a new host."""

from __future__ import annotations

from pathlib import Path

import httpx
import openai
import pytest
from agent_framework import Agent
from agent_framework_hosting import AgentFrameworkHost
from agent_framework_hosting.testing import LoopbackServer, OfflineChatClient
from agent_framework_hosting_responses import ResponsesChannel
from openai import OpenAI

from ._schema import validate_response


def server_for(state_dir: Path | None = None) -> LoopbackServer:
    host = AgentFrameworkHost(
        Agent(client=OfflineChatClient()),
        channels=[ResponsesChannel()],
        state_dir=state_dir,
        trust_isolation_headers=True,
    )
    return LoopbackServer(host.app)


def sdk(server: LoopbackServer, user: str | None = None) -> OpenAI:
    headers = {"x-agent-user-isolation-key": user} if user else {}
    return OpenAI(
        base_url=server.base_url,
        api_key="k",
        max_retries=0,
        _strict_response_validation=True,
        default_headers=headers,
    )


def test_a_stored_response_can_be_retrieved_and_deleted() -> None:
    with server_for() as server:
        client = sdk(server)
        created = client.responses.create(model="m", input="keep me")
        fetched = client.responses.retrieve(created.id)
        assert fetched.output_text == created.output_text
        validate_response(httpx.get(f"{server.base_url}/responses/{created.id}").json())
        client.responses.delete(created.id)
        with pytest.raises(openai.NotFoundError):
            client.responses.retrieve(created.id)
        with pytest.raises(openai.NotFoundError):
            client.responses.create(model="m", input="x", previous_response_id=created.id)


def test_streamed_responses_are_stored_too() -> None:
    with server_for() as server:
        client = sdk(server)
        with client.responses.stream(model="m", input="streamed") as stream:
            final = stream.get_final_response()
        assert client.responses.retrieve(final.id).output_text == final.output_text


def test_input_items_page_with_after_limit_and_order() -> None:
    with server_for() as server:
        client = sdk(server)
        created = client.responses.create(
            model="m",
            input=[
                {"role": "user", "content": "one"},
                {"role": "assistant", "content": "two"},
                {"role": "user", "content": "three"},
            ],
        )
        everything = client.responses.input_items.list(created.id, order="asc")
        ids = [item.id for item in everything.data]
        assert len(ids) == 3
        first_page = client.responses.input_items.list(created.id, order="asc", limit=2)
        assert [item.id for item in first_page.data] == ids[:2]
        assert first_page.has_more
        rest = client.responses.input_items.list(created.id, order="asc", limit=2, after=ids[1])
        assert [item.id for item in rest.data] == ids[2:]
        newest_first = client.responses.input_items.list(created.id)
        assert [item.id for item in newest_first.data] == ids[::-1]
        walked = [item.id for item in client.responses.input_items.list(created.id, limit=1)]
        assert walked == ids[::-1]


def test_another_users_response_is_not_found() -> None:
    with server_for() as server:
        mine = sdk(server, "alice").responses.create(model="m", input="private")
        theirs = sdk(server, "mallory")
        with pytest.raises(openai.NotFoundError):
            theirs.responses.retrieve(mine.id)
        with pytest.raises(openai.NotFoundError):
            theirs.responses.delete(mine.id)
        assert sdk(server, "alice").responses.retrieve(mine.id).id == mine.id


def test_unknown_ids_and_bad_paging_answer_in_the_error_shape() -> None:
    with server_for() as server:
        missing = httpx.get(f"{server.base_url}/responses/resp_nope")
        created = sdk(server).responses.create(model="m", input="x")
        bad = httpx.get(f"{server.base_url}/responses/{created.id}/input_items?limit=0")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    assert bad.status_code == 400
    assert bad.json()["error"]["param"] == "limit"


def test_previous_response_id_survives_a_new_host_on_the_same_state_dir(
    tmp_path: Path,
) -> None:
    with server_for(tmp_path) as server:
        client = sdk(server)
        first = client.responses.create(model="m", input="one")
        second = client.responses.create(model="m", input="two", previous_response_id=first.id)
    with server_for(tmp_path) as server:
        third = sdk(server).responses.create(
            model="m", input="three", previous_response_id=second.id
        )
        assert third.output_text == "Echo: three (turn 3)"
        assert sdk(server).responses.retrieve(first.id).id == first.id

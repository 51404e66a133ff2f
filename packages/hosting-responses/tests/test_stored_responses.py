"""Stored responses: retrieve, delete, list input items, and survive a new host.

Each behaviour runs with the strict sync and async SDK clients, whose every body is
checked against the spec.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import openai
import pytest

from ._clients import serve
from ._sync_and_async import client_of, done, final_of_stream, listed, sync_and_async


@sync_and_async
async def test_a_stored_response_can_be_retrieved_and_deleted(kind: str) -> None:
    with serve() as server:
        client = client_of(kind, server)
        created = await done(client.responses.create(model="m", input="keep me"))
        fetched = await done(client.responses.retrieve(created.id))
        assert fetched.output_text == created.output_text
        await done(client.responses.delete(created.id))
        with pytest.raises(openai.NotFoundError):
            await done(client.responses.retrieve(created.id))
        with pytest.raises(openai.NotFoundError):
            await done(
                client.responses.create(model="m", input="x", previous_response_id=created.id)
            )


@sync_and_async
async def test_streamed_responses_are_stored_too(kind: str) -> None:
    with serve() as server:
        client = client_of(kind, server)
        final = await final_of_stream(client, model="m", input="streamed")
        stored = await done(client.responses.retrieve(final.id))
        assert stored.output_text == final.output_text


@sync_and_async
async def test_input_items_page_with_after_limit_and_order(kind: str) -> None:
    with serve() as server:
        client = client_of(kind, server)
        created = await done(
            client.responses.create(
                model="m",
                input=[
                    {"role": "user", "content": "one"},
                    {"role": "assistant", "content": "two"},
                    {"role": "user", "content": "three"},
                ],
            )
        )
        items = client.responses.input_items
        everything = await done(items.list(created.id, order="asc"))
        ids = [item.id for item in everything.data]
        assert len(ids) == 3
        first_page = await done(items.list(created.id, order="asc", limit=2))
        assert [item.id for item in first_page.data] == ids[:2]
        assert first_page.has_more
        rest = await done(items.list(created.id, order="asc", limit=2, after=ids[1]))
        assert [item.id for item in rest.data] == ids[2:]
        assert not rest.has_more
        newest_first = await done(items.list(created.id))
        assert [item.id for item in newest_first.data] == ids[::-1]
        walked = await listed(items.list(created.id, limit=1))
        assert [item.id for item in walked] == ids[::-1]


@sync_and_async
async def test_another_users_response_is_not_found(kind: str) -> None:
    with serve() as server:
        alice = client_of(kind, server, user="alice")
        mallory = client_of(kind, server, user="mallory")
        mine = await done(alice.responses.create(model="m", input="private"))
        with pytest.raises(openai.NotFoundError):
            await done(mallory.responses.retrieve(mine.id))
        with pytest.raises(openai.NotFoundError):
            await done(mallory.responses.delete(mine.id))
        with pytest.raises(openai.NotFoundError):
            await done(mallory.responses.input_items.list(mine.id))
        assert (await done(alice.responses.retrieve(mine.id))).id == mine.id


def test_unknown_ids_and_bad_paging_answer_in_the_error_shape() -> None:
    with serve() as server:
        missing = httpx.get(f"{server.base_url}/responses/resp_nope")
        created = httpx.post(f"{server.base_url}/responses", json={"input": "x"}).json()
        bad = httpx.get(f"{server.base_url}/responses/{created['id']}/input_items?limit=0")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    assert bad.status_code == 400
    assert bad.json()["error"]["param"] == "limit"


@sync_and_async
async def test_previous_response_id_survives_a_new_host_on_the_same_state_dir(
    kind: str, tmp_path: Path
) -> None:
    with serve(state_dir=tmp_path) as server:
        client = client_of(kind, server)
        first = await done(client.responses.create(model="m", input="one"))
        second = await done(
            client.responses.create(model="m", input="two", previous_response_id=first.id)
        )
    with serve(state_dir=tmp_path) as server:
        client = client_of(kind, server)
        third = await done(
            client.responses.create(model="m", input="three", previous_response_id=second.id)
        )
        assert third.output_text == "Echo: three (turn 3)"
        assert (await done(client.responses.retrieve(first.id))).id == first.id

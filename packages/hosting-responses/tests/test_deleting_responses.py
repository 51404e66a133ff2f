"""Deleting responses: a running background response stops for good, and what continues
from a deleted response keeps the context it ended with.

Each behaviour with the SDK runs with the strict sync and async clients.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openai
import pytest
from agent_framework import Agent
from agent_framework_hosting.testing import LoopbackServer, OfflineChatClient
from openai import AsyncStream, Stream

from ._clients import host_for, left_behind, sdk, serve
from ._sync_and_async import SDKClient, client_of, done, reply, sync_and_async, wait_for

WORDS = "one two three four five six seven eight"


async def start_background(client: SDKClient, *, stream: bool) -> str:
    """A background response's id; with ``stream``, read from its first event."""
    created: Any = await done(
        client.responses.create(model="m", input=WORDS, background=True, stream=stream)
    )
    if isinstance(created, Stream):
        first = next(iter(created))
        created.close()
        return first.response.id
    if isinstance(created, AsyncStream):
        first = await anext(created)
        await created.close()
        return first.response.id
    return created.id


async def assert_gone(client: SDKClient, response_id: str) -> None:
    """Retrieving, listing the input items of and streaming ``response_id`` are 404s."""
    with pytest.raises(openai.NotFoundError):
        await done(client.responses.retrieve(response_id))
    with pytest.raises(openai.NotFoundError):
        await done(client.responses.input_items.list(response_id))
    with pytest.raises(openai.NotFoundError):
        await done(client.responses.retrieve(response_id, stream=True))


def user_texts(client: OfflineChatClient) -> list[str]:
    """The user messages of the latest model call."""
    return [message.text for message in client.last_messages if message.role == "user"]


@pytest.mark.parametrize("stream", [False, True], ids=["polled", "streamed"])
@sync_and_async
async def test_deleting_a_running_background_response_stops_it_for_good(
    kind: str, stream: bool
) -> None:
    host = host_for(delay=0.2, chunks=4)
    with LoopbackServer(host.app) as server:
        client = client_of(kind, server)
        doomed = await start_background(client, stream=stream)
        # Started just after it, with the same pace: once it ends, the deleted run would have.
        twin = await start_background(client, stream=stream)
        await done(client.responses.delete(doomed))
        await assert_gone(client, doomed)
        await wait_for(client, twin, {"completed"})
        await assert_gone(client, doomed)
        with pytest.raises(openai.NotFoundError):
            await done(client.responses.delete(doomed))
    assert await left_behind(host.state_store, doomed) == []


async def test_a_response_deleted_through_another_host_sharing_the_store_stays_deleted(
    tmp_path: Path,
) -> None:
    running = host_for(state_dir=tmp_path, delay=0.2, chunks=4)
    other = host_for(state_dir=tmp_path)
    with LoopbackServer(running.app) as server, LoopbackServer(other.app) as elsewhere:
        client = sdk(server)
        doomed = await start_background(client, stream=True)
        twin = await start_background(client, stream=True)
        # The other host has no run to stop: the one running it drops what it writes.
        sdk(elsewhere).responses.delete(doomed)
        await wait_for(client, twin, {"completed"})
        await assert_gone(client, doomed)
        await assert_gone(sdk(elsewhere), doomed)
        assert await left_behind(running.state_store, doomed) == []


def test_a_follower_of_a_deleted_background_stream_gets_to_the_end() -> None:
    with serve(delay=0.05, chunks=8) as server:
        client = client_of("sync", server)
        stream: Any = client.responses.create(model="m", input=WORDS, background=True, stream=True)
        events = iter(stream)
        response_id = next(events).response.id
        client.responses.delete(response_id)
        rest = list(events)
    assert all(event.type != "response.completed" for event in rest)


@sync_and_async
async def test_a_response_keeps_its_whole_context_when_its_ancestors_are_deleted(
    kind: str,
) -> None:
    chat = OfflineChatClient()
    with serve(agent=Agent(client=chat)) as server:
        client = client_of(kind, server)
        first = await reply(client, "one")
        second = await reply(client, "two", first.id)
        third = await reply(client, "three", second.id)
        # Its conversation moves on, so continuing the third response branches from it.
        await reply(client, "four", third.id)
        await done(client.responses.delete(second.id))
        await done(client.responses.delete(first.id))
        branch = await reply(client, "again", third.id)
        sees = user_texts(chat)
        with pytest.raises(openai.NotFoundError) as caught:
            await reply(client, "from a deleted one", second.id)
    assert branch.output_text == "Echo: again (turn 4)"
    assert sees == ["one", "two", "three", "again"]
    assert caught.value.code == "previous_response_not_found"


@sync_and_async
async def test_deleting_a_parent_while_its_child_runs_keeps_the_childs_context(kind: str) -> None:
    chat = OfflineChatClient(delay=0.3)
    with serve(agent=Agent(client=chat)) as server:
        client = client_of(kind, server)
        first = await reply(client, "one")
        child = await done(
            client.responses.create(
                model="m", input="two", previous_response_id=first.id, background=True
            )
        )
        await done(client.responses.delete(first.id))
        await wait_for(client, child.id, {"completed"})
        await reply(client, "three", child.id)
        branch = await reply(client, "again", child.id)
        sees = user_texts(chat)
    assert branch.output_text == "Echo: again (turn 3)"
    assert sees == ["one", "two", "again"]


@sync_and_async
async def test_deleting_a_conversations_latest_response_links_the_next_to_the_one_before(
    kind: str,
) -> None:
    chat = OfflineChatClient()
    with serve(agent=Agent(client=chat)) as server:
        client = client_of(kind, server, user="alice")  # the header conversation
        await reply(client, "one")
        second = await reply(client, "two")
        await done(client.responses.delete(second.id))
        third = await reply(client, "three")
        await reply(client, "four")
        branch = await reply(client, "again", third.id)
        sees = user_texts(chat)
    # The session saw "two"; a branch replays the stored responses, and "two" is gone.
    assert sees == ["one", "three", "again"]
    assert branch.output_text == "Echo: again (turn 3)"


@sync_and_async
async def test_deleting_every_response_of_a_chain_leaves_none_of_it_stored(kind: str) -> None:
    host = host_for()
    with LoopbackServer(host.app) as server:
        client = client_of(kind, server)
        first = await reply(client, "one")
        second = await reply(client, "two", first.id)
        branch = await reply(client, "fork", first.id)
        third = await reply(client, "three", second.id)
        chain = [first, second, branch, third]
        for response in chain:
            await done(client.responses.delete(response.id))
        for response in chain:
            with pytest.raises(openai.NotFoundError):
                await done(client.responses.retrieve(response.id))
    for response in chain:
        assert await left_behind(host.state_store, response.id) == []

"""Threads and runs belong to the caller's partition: another caller finds nothing of them."""

from __future__ import annotations

from agent_framework import Agent
from agent_framework_hosting.testing import OfflineChatClient

from ._agui import BearerKeys, follow_run, post_run, run_input, serving, user_message

ALICE = {"Authorization": "Bearer alice-key"}
BOB = {"Authorization": "Bearer bob-key"}
KEYS = BearerKeys({"alice-key": "alice", "bob-key": "bob"})


def agent() -> Agent:
    return Agent(client=OfflineChatClient(), name="partitions")


async def test_the_same_thread_id_of_two_callers_is_two_conversations() -> None:
    async with serving(agent(), host_options={"auth": KEYS}) as (_, client):
        await post_run(client, run_input("t", user_message("alice one")), headers=ALICE)
        bobs = await post_run(client, run_input("t", user_message("bob one")), headers=BOB)
        alices = await post_run(client, run_input("t", user_message("alice two")), headers=ALICE)
    assert bobs.text == "Echo: bob one (turn 1)"
    assert alices.text == "Echo: alice two (turn 2)"


async def test_another_callers_thread_is_not_found() -> None:
    async with serving(agent(), host_options={"auth": KEYS}) as (_, client):
        await post_run(client, run_input("alices", user_message("secret plan")), headers=ALICE)
        seen = await client.get("/ag-ui/threads/alices", headers=BOB)
        listed = (await client.get("/ag-ui/threads", headers=BOB)).json()
        deleted = await client.delete("/ag-ui/threads/alices", headers=BOB)
        still = await client.get("/ag-ui/threads/alices", headers=ALICE)
    assert seen.status_code == 404
    assert listed == {"threads": []}
    assert deleted.status_code == 404
    assert still.status_code == 200


async def test_another_callers_run_is_not_found() -> None:
    async with serving(agent(), host_options={"auth": KEYS}) as (_, client):
        await post_run(client, run_input("t", user_message("hi"), runId="run-a"), headers=ALICE)
        followed = await follow_run(client, "run-a", headers=BOB)
        cancelled = await client.post("/ag-ui/runs/run-a/cancel", headers=BOB)
        own = await follow_run(client, "run-a", headers=ALICE)
    assert (followed.status, cancelled.status_code) == (404, 404)
    assert "secret" not in followed.raw
    assert own.text == "Echo: hi (turn 1)"


async def test_a_run_id_another_caller_used_is_free() -> None:
    async with serving(agent(), host_options={"auth": KEYS}) as (_, client):
        alices = await post_run(client, run_input("t", user_message("a"), runId="r"), headers=ALICE)
        bobs = await post_run(client, run_input("t", user_message("b"), runId="r"), headers=BOB)
    assert (alices.status, bobs.status) == (200, 200)


async def test_a_caller_without_credentials_is_told_how_to_authenticate() -> None:
    async with serving(agent(), host_options={"auth": KEYS}) as (_, client):
        answer = await client.post("/ag-ui", json=run_input("t", user_message("hi")))
        listing = await client.get("/ag-ui/threads")
    assert (answer.status_code, listing.status_code) == (401, 401)
    assert answer.headers["www-authenticate"] == 'Bearer realm="tests"'
    assert answer.json()["type"] == "RUN_ERROR"
    assert answer.json()["code"] == "unauthenticated"


async def test_a_wrong_key_is_refused() -> None:
    async with serving(agent(), host_options={"auth": KEYS}) as (_, client):
        answer = await client.get("/ag-ui/threads", headers={"Authorization": "Bearer nope"})
    assert answer.status_code == 401


async def test_the_channels_own_authenticator_overrides_the_hosts() -> None:
    own = BearerKeys({"channel-key": "carol"})
    async with serving(agent(), host_options={"auth": KEYS}, auth=own) as (_, client):
        hosts = await client.get("/ag-ui/threads", headers=ALICE)
        channels = await client.get(
            "/ag-ui/threads", headers={"Authorization": "Bearer channel-key"}
        )
    assert (hosts.status_code, channels.status_code) == (401, 200)


async def test_the_page_needs_no_credentials_it_holds_no_data() -> None:
    async with serving(agent(), host_options={"auth": KEYS}) as (_, client):
        page = await client.get("/ag-ui")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")

"""Replicas of one service sharing one Redis: any replica serves any conversation and run.

Each replica is a real host process (``serve_host.py``) on a loopback port, with its
state in Redis under a prefix of the test's own; clients are the ``openai`` SDK in
strict mode, alternating between replicas as a load balancer would.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import threading
import time
from collections.abc import Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from agent_framework_hosting.testing import HostProcess, host_process
from agent_framework_hosting_redis.testing import OwnRedis, redis_url_for_tests
from openai import OpenAI

SERVER = Path(__file__).resolve().parent / "serve_host.py"
WORDS = " ".join(f"w{n}" for n in range(40))
TURN = re.compile(r"\(turn (\d+)\)")


def sdk(replica: HostProcess, *, chat: str | None = None) -> OpenAI:
    headers = {"x-agent-chat-isolation-key": chat} if chat else None
    return OpenAI(
        base_url=replica.url,
        api_key="unused",
        max_retries=0,
        default_headers=headers,
        _strict_response_validation=True,
    )


@contextlib.contextmanager
def replicas(count: int, url: str, prefix: str, **env: str) -> Generator[list[HostProcess]]:
    settings = {"REDIS_URL": url, "REDIS_PREFIX": prefix, "LEASE": "2", "KEEPALIVE": "0.5", **env}
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(host_process(SERVER, settings)) for _ in range(count)]


@pytest.fixture
def prefix() -> Iterator[str]:
    url = redis_url_for_tests()
    prefix = f"afh-replicas-{secrets.token_hex(6)}:"
    yield prefix
    import redis

    client = redis.Redis.from_url(url)
    for key in client.scan_iter(match=f"{prefix}*", count=500):
        client.delete(key)
    client.close()


@pytest.fixture
def redis_url() -> str:
    return redis_url_for_tests()


def test_a_chain_of_twenty_turns_alternating_replicas_keeps_every_turn(
    redis_url: str, prefix: str
) -> None:
    with replicas(2, redis_url, prefix) as (a, b):
        previous: str | None = None
        texts: list[str] = []
        for turn in range(1, 21):
            client = sdk(a if turn % 2 else b)
            response = client.responses.create(
                model="m", input=f"t{turn}", previous_response_id=previous
            )
            previous = response.id
            texts.append(response.output_text)
    assert texts == [f"Echo: t{turn} (turn {turn})" for turn in range(1, 21)]


def test_branching_on_another_replica_continues_from_the_named_response(
    redis_url: str, prefix: str
) -> None:
    with replicas(2, redis_url, prefix) as (a, b):
        first = sdk(a).responses.create(model="m", input="one")
        second = sdk(b).responses.create(model="m", input="two", previous_response_id=first.id)
        sdk(a).responses.create(model="m", input="three", previous_response_id=second.id)
        branch = sdk(b).responses.create(model="m", input="fork", previous_response_id=first.id)
        on_branch = sdk(a).responses.create(
            model="m", input="fork on", previous_response_id=branch.id
        )
    assert branch.output_text == "Echo: fork (turn 2)"
    assert on_branch.output_text == "Echo: fork on (turn 3)"


def test_a_conversation_object_alternating_replicas(redis_url: str, prefix: str) -> None:
    with replicas(2, redis_url, prefix) as (a, b):
        conversation = sdk(a).conversations.create()
        texts = [
            sdk(a if turn % 2 else b)
            .responses.create(model="m", input=f"c{turn}", conversation=conversation.id)
            .output_text
            for turn in range(1, 7)
        ]
        items = sdk(b).conversations.items.list(conversation.id, order="asc")
    assert texts == [f"Echo: c{turn} (turn {turn})" for turn in range(1, 7)]
    assert len(items.data) == 12


def test_a_background_stream_started_on_one_replica_resumes_on_another(
    redis_url: str, prefix: str
) -> None:
    with replicas(2, redis_url, prefix, DELAY="0.05", CHUNKS="40") as (a, b):
        created = sdk(a).responses.create(model="m", input=WORDS, background=True, stream=True)
        seen: list[Any] = []
        for event in created:
            seen.append(event)
            if len(seen) == 6:
                break
        created.close()
        response_id = seen[0].response.id
        resumed = list(sdk(b).responses.retrieve(response_id, stream=True, starting_after=5))
        whole = list(sdk(a).responses.retrieve(response_id, stream=True))
    numbers = [event.sequence_number for event in resumed]
    assert numbers == list(range(6, 6 + len(numbers)))
    assert [event.sequence_number for event in whole] == list(range(len(whole)))
    assert resumed[-1].type == "response.completed"
    assert resumed[-1].response.output_text == f"Echo: {WORDS} (turn 1)"


def test_a_cancel_on_one_replica_stops_a_run_on_another(redis_url: str, prefix: str) -> None:
    with replicas(2, redis_url, prefix, DELAY="0.1", CHUNKS="40") as (a, b):
        started = sdk(a).responses.create(model="m", input=WORDS, background=True, stream=True)
        response_id = next(iter(started)).response.id  # type: ignore[union-attr]
        started.close()
        time.sleep(0.3)
        began = time.monotonic()
        cancelled = sdk(b).responses.cancel(response_id)
        took = time.monotonic() - began
        stored = sdk(a).responses.retrieve(response_id)
    assert cancelled.status == "cancelled"
    assert stored.status == "cancelled"
    assert took < 10  # a bound on the wait, not a speed claim: it must not hang


def test_a_response_deleted_on_one_replica_is_gone_on_every_replica(
    redis_url: str, prefix: str
) -> None:
    import openai

    with replicas(2, redis_url, prefix) as (a, b):
        response = sdk(a).responses.create(model="m", input="doomed")
        sdk(b).responses.delete(response.id)
        for replica in (a, b):
            with pytest.raises(openai.NotFoundError):
                sdk(replica).responses.retrieve(response.id)


def test_fifty_concurrent_turns_of_one_conversation_over_two_replicas_are_serialized(
    redis_url: str, prefix: str
) -> None:
    with replicas(2, redis_url, prefix, DELAY="0.01") as pair:

        def turn(number: int) -> str:
            client = sdk(pair[number % 2], chat="shared")
            return client.responses.create(model="m", input=f"n{number}").output_text

        with ThreadPoolExecutor(16) as pool:
            texts = list(pool.map(turn, range(50)))
    turns = sorted(int(match.group(1)) for text in texts if (match := TURN.search(text)))
    assert turns == list(range(1, 51))


def test_a_killed_replica_s_run_settles_and_followers_on_another_end(
    redis_url: str, prefix: str
) -> None:
    with replicas(2, redis_url, prefix, DELAY="0.2", CHUNKS="40") as (a, b):
        created = sdk(a).responses.create(model="m", input=WORDS, background=True, stream=True)
        response_id = next(iter(created)).response.id  # type: ignore[union-attr]
        created.close()
        frames: list[str] = []

        def follow() -> None:
            url = f"{b.url}/responses/{response_id}?stream=true"
            with httpx.stream("GET", url, timeout=60) as response:
                frames.extend(response.iter_text())

        follower = threading.Thread(target=follow)
        follower.start()
        time.sleep(0.5)
        a.kill()
        follower.join(timeout=30)
        stored = httpx.get(f"{b.url}/responses/{response_id}", timeout=10).json()
    text = "".join(frames)
    assert not follower.is_alive()
    assert "event: response.failed" in text
    assert text.rstrip().endswith("data: [DONE]")
    assert stored["status"] == "failed"


def test_redis_unreachable_is_a_503_and_a_restarted_redis_serves_again(
    tmp_path: Path,
) -> None:
    import openai

    own = OwnRedis(tmp_path)
    with own:
        settings = {"REDIS_URL": own.url, "REDIS_PREFIX": "own:", "KEEPALIVE": "0.5"}
        with host_process(SERVER, settings) as replica:
            kept = sdk(replica).responses.create(model="m", input="kept")
            own.stop()
            began = time.monotonic()
            down = httpx.post(
                f"{replica.url}/responses", json={"model": "m", "input": "x"}, timeout=30
            )
            took = time.monotonic() - began
            also_down = httpx.get(f"{replica.url}/responses/{kept.id}", timeout=30)
            own.start()
            again = sdk(replica).responses.retrieve(kept.id)
            after = sdk(replica).responses.create(model="m", input="after")
            with pytest.raises(openai.NotFoundError):
                sdk(replica).responses.retrieve("resp_missing")
    assert down.status_code == 503
    assert down.json()["error"]["code"] == "service_unavailable"
    assert also_down.status_code == 503
    assert "retry-after" in down.headers
    assert took < 20  # bounded by the client's socket timeout: it does not hang
    assert again.output_text == "Echo: kept (turn 1)"
    assert after.output_text == "Echo: after (turn 1)"


def test_a_workflow_asks_on_one_replica_and_is_answered_on_another(
    redis_url: str, prefix: str
) -> None:
    with replicas(2, redis_url, prefix, TARGET="review") as (a, b):
        first = sdk(a).responses.create(model="wf", input="essay")
        [call] = [item for item in first.output if item.type == "function_call"]
        answer: Any = [{"type": "function_call_output", "call_id": call.call_id, "output": "true"}]
        second = sdk(b).responses.create(model="wf", input=answer, previous_response_id=first.id)
        third = sdk(a).responses.create(model="wf", input="next", previous_response_id=second.id)
    assert first.output_text == "Draft 1: essay (awaiting review)"
    assert second.output_text == "Approved by reviewer 1: Draft 1: essay"
    assert third.output_text == "Draft 2: next (awaiting review)"

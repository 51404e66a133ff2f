"""The host on Redis against the same host in memory, in one run; Redis round trips per turn.

    uv run bench/redis_backend.py [--duration 8] [--rounds 2] [--quick]

Needs ``wrk`` and a Redis (``REDIS_URL``, default ``redis://127.0.0.1:6379/0``); each run
uses a key prefix of its own and removes it. Reports:

- throughput of JSON turns (stored, each a new conversation) and of streamed turns, the
  Redis backend's median against the memory backend's, alternating in one run;
- the Redis round trips of one turn of each kind, counted on the connection (every
  request the client writes is one round trip; a script is one request);
- two replicas on one Redis against one, under the same total load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import threading
from pathlib import Path
from typing import Any

import redis
from agent_framework_hosting.testing import LoopbackServer
from agent_framework_hosting_redis import RedisStateStore
from openai import OpenAI
from redis.asyncio.connection import Connection

sys.path.insert(0, str(Path(__file__).resolve().parent))

from apps import PROMPT, host_app
from run import Load, Server, _median, wrk

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
JSON_TURN = {"model": "m", "input": PROMPT}
STREAM_TURN = {"model": "m", "input": PROMPT, "stream": True}


class CountingConnection(Connection):
    """A Redis connection that counts the requests it writes: one round trip each."""

    sent = 0
    lock = threading.Lock()

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        with CountingConnection.lock:
            CountingConnection.sent += 1
        await super().send_packed_command(command, check_health)


def round_trips(prefix: str, samples: int = 20) -> dict[str, float]:
    """Round trips per turn of each kind, averaged over ``samples`` turns after a warm-up."""
    store = RedisStateStore.from_url(REDIS_URL, prefix=prefix, connection_class=CountingConnection)
    with LoopbackServer(host_app(state_store=store)) as server:
        client = OpenAI(base_url=server.base_url, api_key="unused", max_retries=0)

        def count(turn: Any) -> float:
            turn()  # warm: scripts loaded, connections open
            before = CountingConnection.sent
            for _ in range(samples):
                turn()
            return (CountingConnection.sent - before) / samples

        def continued() -> None:
            first = client.responses.create(model="m", input="one")
            client.responses.create(model="m", input="two", previous_response_id=first.id)

        def stream() -> None:
            for _ in client.responses.create(model="m", input="streamed", stream=True):
                pass

        return {
            "JSON, stored, a new conversation": count(
                lambda: client.responses.create(model="m", input="hello")
            ),
            "JSON, store: false": count(
                lambda: client.responses.create(model="m", input="hello", store=False)
            ),
            "JSON, previous_response_id (its first turn counted too)": count(continued)
            - count(lambda: client.responses.create(model="m", input="one")),
            "stream, a new conversation": count(stream),
        }


class RedisServer(Server):
    """The benchmark host on Redis, in a process of its own."""

    def __init__(self, prefix: str) -> None:
        os.environ["REDIS_URL"], os.environ["REDIS_PREFIX"] = REDIS_URL, prefix
        super().__init__("host-redis")


def throughput(
    name: str, body: dict[str, object], prefix: str, args: argparse.Namespace
) -> dict[str, object]:
    results: dict[str, list[Load]] = {"redis": [], "memory": []}
    for _ in range(args.rounds):
        for kind in ("redis", "memory"):
            server = RedisServer(prefix) if kind == "redis" else Server("host")
            with server:
                wrk(server.url, body, duration=2, connections=args.connections, sessions=False)
                load = wrk(
                    server.url,
                    body,
                    duration=args.duration,
                    connections=args.connections,
                    sessions=False,
                )
                results[kind].append(load)
    on_redis, in_memory = _median(results["redis"]), _median(results["memory"])
    return {
        "case": name,
        "redis_rps": round(on_redis.rps),
        "memory_rps": round(in_memory.rps),
        "ratio": round(on_redis.rps / in_memory.rps, 2),
        "redis_p50_ms": on_redis.p50_ms,
        "memory_p50_ms": in_memory.p50_ms,
        "errors": on_redis.errors + in_memory.errors,
    }


def replicas(prefix: str, args: argparse.Namespace) -> dict[str, object]:
    """One replica under the whole load, then two under half of it each, at once."""
    with RedisServer(prefix) as one:
        wrk(one.url, JSON_TURN, duration=2, connections=args.connections, sessions=False)
        single = wrk(
            one.url, JSON_TURN, duration=args.duration, connections=args.connections, sessions=False
        )
    with RedisServer(prefix) as a, RedisServer(prefix) as b:
        for server in (a, b):
            wrk(server.url, JSON_TURN, duration=2, connections=args.connections, sessions=False)
        loads: list[Load] = []

        def load(url: str) -> None:
            loads.append(
                wrk(
                    url,
                    JSON_TURN,
                    duration=args.duration,
                    connections=args.connections // 2,
                    sessions=False,
                )
            )

        threads = [threading.Thread(target=load, args=(server.url,)) for server in (a, b)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    both = sum(result.rps for result in loads)
    return {
        "one_replica_rps": round(single.rps),
        "two_replicas_rps": round(both),
        "ratio": round(both / single.rps, 2),
        "cores": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--quick", action="store_true", help="short runs, one round")
    args = parser.parse_args()
    if args.quick:
        args.duration, args.rounds = 3, 1
    prefix = f"afh-bench-{secrets.token_hex(4)}:"
    try:
        report: dict[str, object] = {
            "round_trips_per_turn": round_trips(prefix + "rtt:"),
            "throughput": [
                throughput("JSON (stored)", JSON_TURN, prefix + "json:", args),
                throughput("stream", STREAM_TURN, prefix + "stream:", args),
            ],
            "replicas": replicas(prefix + "replicas:", args),
        }
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(match=f"{prefix}*", count=1000):
            client.delete(key)
        client.close()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    main()

"""The apps' own CPU per request, without a server or a load tool, and the collector's share.

    uv run bench/inprocess.py [--requests 6000] [--concurrency 32] [--rounds 2] [--no-collector]
    uv run bench/inprocess.py --profile host|floor|"host, store: false"

Calls each app of ``bench/run.py`` as an ASGI callable, ``--concurrency`` requests at
a time on one event loop, each side in a fresh process per round, and reports
microseconds per request for the host (``store`` true and false) and the floor, their
ratio, and the time the garbage collector spent per request in each generation
(``gc.callbacks``). What the server and ``wrk`` cost is the same on both sides, so it is
left out here: these are the figures the throughput ratios of ``bench/run.py`` are made of.

``--no-collector`` switches the garbage collector off in each side's process
(``gc.disable()``), so the figures are the apps' work alone, without its passes.

``--profile SIDE`` measures one side under ``cProfile`` instead and prints the hosting
packages' functions by their inclusive share of the measured requests.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import pstats
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from apps import PROMPT, floor_app, host_app

Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Message, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
    Awaitable[None],
]


class CollectorClock:
    """Adds up the time of the collector's passes, by generation."""

    def __init__(self) -> None:
        self.seconds: dict[int, float] = {}
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        generation = info["generation"]
        spent = time.perf_counter() - self._started
        self.seconds[generation] = self.seconds.get(generation, 0.0) + spent

    def __enter__(self) -> CollectorClock:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)


async def post(app: ASGIApp, body: bytes) -> None:
    """One ``POST /responses`` through the app; raise unless it answers 200."""
    delivered = False

    async def receive() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client never disconnects
        raise AssertionError("unreachable")

    status: list[int] = []

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    scope: Message = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/responses",
        "raw_path": b"/responses",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    await app(scope, receive, send)
    if status != [200]:
        raise RuntimeError(f"the app answered {status}")


async def measure(
    app: ASGIApp,
    body: bytes,
    *,
    requests: int,
    concurrency: int,
    profiler: cProfile.Profile | None = None,
) -> tuple[float, CollectorClock]:
    """Microseconds per request over ``requests`` requests, and the collector's time.

    A ``profiler`` is enabled for the measured requests only, not the warm-up.
    """

    async def worker(count: int) -> None:
        for _ in range(count):
            await post(app, body)

    await worker(1000)  # warm-up: caches filled, the host's bounded stores on their way
    with CollectorClock() as clock:
        if profiler is not None:
            profiler.enable()
        started = time.perf_counter()
        await asyncio.gather(*(worker(requests // concurrency) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        if profiler is not None:
            profiler.disable()
    return elapsed / _sent(requests, concurrency) * 1e6, clock


def _sent(requests: int, concurrency: int) -> int:
    """The requests a measurement sends: an equal share for each of its workers."""
    return requests // concurrency * concurrency


_SIDES: dict[str, tuple[Callable[[], Any], dict[str, Any]]] = {
    "floor": (floor_app, {}),
    "host": (host_app, {}),
    "host, store: false": (host_app, {"store": False}),
}


def _app_and_body(side: str) -> tuple[ASGIApp, bytes]:
    make_app, fields = _SIDES[side]
    return make_app(), json.dumps({"model": "m", "input": PROMPT, **fields}).encode()


def measure_side(side: str, *, requests: int, concurrency: int) -> dict[str, Any]:
    """Measure one side in this process: µs per request and the collector's µs per request."""
    app, body = _app_and_body(side)
    micros, clock = asyncio.run(measure(app, body, requests=requests, concurrency=concurrency))
    sent = _sent(requests, concurrency)
    return {
        "micros": micros,
        "collector": [clock.seconds.get(generation, 0.0) / sent * 1e6 for generation in range(3)],
    }


def profile_side(side: str, *, requests: int, concurrency: int, top: int = 30) -> None:
    """Measure one side under ``cProfile``; print the hosting packages' inclusive shares."""
    profiler = cProfile.Profile()
    app, body = _app_and_body(side)
    asyncio.run(measure(app, body, requests=requests, concurrency=concurrency, profiler=profiler))
    # pstats keeps (calls, primitive calls, own time, inclusive time, callers) a function.
    timings: dict[tuple[str, int, str], tuple[Any, ...]] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    whole = max(timing[3] for timing in timings.values())
    hosting = [
        (timing[3], f"{function[2]} ({Path(function[0]).name}:{function[1]})")
        for function, timing in timings.items()
        # The offline client is the agent both sides run, not the host's own work.
        if "agent_framework_hosting" in function[0] and "testing" not in Path(function[0]).parts
    ]
    print(f"{side}: the hosting packages' functions by inclusive share of the profiled run")
    for inclusive, name in sorted(hosting, reverse=True)[:top]:
        print(f"  {inclusive / whole:6.1%}  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--side", choices=sorted(_SIDES), help=argparse.SUPPRESS)
    parser.add_argument("--profile", choices=sorted(_SIDES), metavar="SIDE")
    parser.add_argument("--no-collector", action="store_true")
    args = parser.parse_args()
    if args.no_collector:
        gc.disable()
    if args.profile is not None:
        profile_side(args.profile, requests=args.requests, concurrency=args.concurrency)
        return
    if args.side is not None:
        side = measure_side(args.side, requests=args.requests, concurrency=args.concurrency)
        print(json.dumps(side))
        return
    results: dict[str, list[dict[str, Any]]] = {side: [] for side in _SIDES}
    for _ in range(args.rounds):
        for side in _SIDES:
            # A process of its own: one side's heap must not slow the other's collector.
            child = subprocess.run(
                [
                    *(sys.executable, __file__, "--side", side),
                    *("--requests", str(args.requests), "--concurrency", str(args.concurrency)),
                    *(("--no-collector",) if args.no_collector else ()),
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            results[side].append(json.loads(child.stdout))
    floor = statistics.median(run["micros"] for run in results["floor"])
    print(f"{args.requests} requests, {args.concurrency} at a time, median of {args.rounds}")
    print("\n| app | µs per request | floor/app | collector µs per request (gen 0 / 1 / 2) |")
    print("|---|---|---|---|")
    for side, runs in results.items():
        micros = statistics.median(run["micros"] for run in runs)
        spent = " / ".join(
            f"{statistics.median(run['collector'][generation] for run in runs):.1f}"
            for generation in range(3)
        )
        print(f"| {side} | {micros:.0f} | {floor / micros:.2f}x | {spent} |")


if __name__ == "__main__":
    main()

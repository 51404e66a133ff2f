"""Benchmark the host against a bare Starlette floor, in one run, and print ratios.

    uv run bench/run.py [--duration 10] [--rounds 2] [--quick]

Needs ``wrk`` (Debian: ``apt-get install wrk``). Each throughput case alternates
host and floor for ``--rounds`` rounds under the same server (Hypercorn, one worker)
and the same load generator, and reports the median of each side.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from apps import PROMPT

HERE = Path(__file__).resolve().parent
HEADER = "x-agent-chat-isolation-key"


@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


class Server:
    def __init__(self, kind: str, delay: float = 0.0, max_live: int = 1024) -> None:
        # Bound here and handed over: no other process can take the port in between.
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(2048)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(HERE / "serve.py"),
                kind,
                str(self._listener.fileno()),
                str(delay),
                str(max_live),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(self._listener.fileno(),),
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.post(f"{self.url}/responses", json={"model": "m", "input": "warm"}, timeout=2)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"{kind} server did not start")

    def rss_kb(self, field: str = "VmRSS") -> int:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(rf"{field}:\s+(\d+)", status).group(1))  # type: ignore[union-attr]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self._listener.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wrk(
    url: str, body: dict[str, object], *, duration: int, connections: int, sessions: bool
) -> Load:
    """Load ``url`` with wrk; with ``sessions`` each request names one of 10,000 conversations."""
    lines = [
        'wrk.method = "POST"',
        f"wrk.body = {json.dumps(json.dumps(body))}",
        'wrk.headers["Content-Type"] = "application/json"',
    ]
    if sessions:
        lines += [
            "local n = math.random(0, 1000000)",
            "request = function()",
            "  n = n + 1",
            f'  wrk.headers["{HEADER}"] = "user-" .. (n % 10000)',
            "  return wrk.format()",
            "end",
        ]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("\n".join(lines) + "\n")
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "-s",
            script.name,
            f"{url}/responses",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(script.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return Load(rps, _latency_ms(out, "50%"), _latency_ms(out, "99%"), errors)


def _latency_ms(out: str, pct: str) -> float:
    value, unit = re.search(rf"{pct}\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def compare(
    name: str, body: dict[str, object], *, sessions: bool, args: argparse.Namespace
) -> dict[str, object]:
    results: dict[str, list[Load]] = {"host": [], "floor": []}
    for _ in range(args.rounds):
        for kind in ("host", "floor"):
            with Server(kind) as server:
                wrk(
                    server.url, body, duration=2, connections=args.connections, sessions=sessions
                )  # warm-up
                results[kind].append(
                    wrk(
                        server.url,
                        body,
                        duration=args.duration,
                        connections=args.connections,
                        sessions=sessions,
                    )
                )
    host, floor = (_median(results[k]) for k in ("host", "floor"))
    row: dict[str, object] = {
        "case": name,
        "host_rps": host.rps,
        "floor_rps": floor.rps,
        "ratio": host.rps / floor.rps,
        "host_p50_ms": host.p50_ms,
        "host_p99_ms": host.p99_ms,
        "floor_p50_ms": floor.p50_ms,
        "floor_p99_ms": floor.p99_ms,
        "errors": host.errors + floor.errors,
    }
    if body.get("stream"):
        row["host_ttfe_ms"], row["host_events"] = time_to_first_event("host", body)
        row["floor_ttfe_ms"], row["floor_events"] = time_to_first_event("floor", body)
    return row


def _median(loads: list[Load]) -> Load:
    return Load(
        statistics.median(load.rps for load in loads),
        statistics.median(load.p50_ms for load in loads),
        statistics.median(load.p99_ms for load in loads),
        sum(load.errors for load in loads),
    )


def time_to_first_event(kind: str, body: dict[str, object], samples: int = 50) -> tuple[float, int]:
    """The median time to a stream's first bytes, and how many events a stream has."""
    times: list[float] = []
    events = 0
    with Server(kind) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        for _ in range(samples):
            start = time.perf_counter()
            with client.stream("POST", "/responses", json=body) as response:
                chunks: list[bytes] = []
                for chunk in response.iter_bytes():
                    if not chunks:
                        times.append((time.perf_counter() - start) * 1000)
                    chunks.append(chunk)
            events = b"".join(chunks).count(b"\nevent: ") + 1
    return statistics.median(times), events


async def _slow_stream(client: httpx.AsyncClient, index: int) -> bool:
    body = {"model": "m", "input": f"slow {index}", "stream": True}
    try:
        async with client.stream("POST", "/responses", json=body) as response:
            text = (await response.aread()).decode()
        return response.status_code == 200 and "response.completed" in text
    except httpx.HTTPError:
        return False


def concurrent_streams(count: int, delay: float) -> dict[str, object]:
    with Server("host", delay=delay) as server:

        async def main() -> list[bool]:
            limits = httpx.Limits(max_connections=count + 10)
            async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=120) as client:
                return await asyncio.gather(*(_slow_stream(client, i) for i in range(count)))

        start = time.perf_counter()
        ok = asyncio.run(main())
        elapsed = time.perf_counter() - start
        peak = server.rss_kb("VmHWM")
    return {
        "case": f"{count} concurrent slow streams",
        "succeeded": sum(ok),
        "failed": count - sum(ok),
        "seconds": round(elapsed, 2),
        "peak_rss_mb": round(peak / 1024, 1),
    }


def memory_per_session(count: int) -> dict[str, object]:
    """RSS growth per idle conversation, host and floor: the floor keeps only the agent's."""
    per_session: dict[str, int] = {}
    for kind in ("host", "floor"):
        with (
            Server(kind, max_live=count) as server,
            httpx.Client(base_url=server.url, timeout=30) as client,
        ):
            for i in range(200):  # let allocator pools settle before the baseline
                client.post(
                    "/responses", json={"model": "m", "input": "w"}, headers={HEADER: f"warm-{i}"}
                )
            before = server.rss_kb()
            for i in range(count):
                client.post(
                    "/responses", json={"model": "m", "input": "hi"}, headers={HEADER: f"user-{i}"}
                )
            per_session[kind] = round((server.rss_kb() - before) * 1024 / count)
    return {
        "case": f"memory per idle session ({count} sessions)",
        "host_bytes": per_session["host"],
        "floor_bytes": per_session["floor"],
        "host_minus_floor_bytes": per_session["host"] - per_session["floor"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--quick", action="store_true", help="short runs, smaller counts")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    if args.quick:
        args.duration, args.rounds = 3, 1
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} cpus, python {platform.python_version()}"
    )
    rows = [
        compare("JSON", {"model": "m", "input": PROMPT}, sessions=False, args=args),
        compare(
            "JSON, store: false",
            {"model": "m", "input": PROMPT, "store": False},
            sessions=False,
            args=args,
        ),
        compare("JSON + session", {"model": "m", "input": PROMPT}, sessions=True, args=args),
        compare(
            "stream, 20 updates",
            {"model": "m", "input": PROMPT, "stream": True},
            sessions=False,
            args=args,
        ),
        compare(
            "stream + session",
            {"model": "m", "input": PROMPT, "stream": True},
            sessions=True,
            args=args,
        ),
    ]
    print(
        "\n| case | host req/s | floor req/s | host/floor | host p50/p99 ms "
        "| floor p50/p99 ms | host/floor first event ms |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        ttfe = f"{r['host_ttfe_ms']:.2f} / {r['floor_ttfe_ms']:.2f}" if "host_ttfe_ms" in r else "—"
        print(
            f"| {r['case']} | {r['host_rps']:.0f} | {r['floor_rps']:.0f} | {r['ratio']:.2f}x | "
            f"{r['host_p50_ms']:.1f} / {r['host_p99_ms']:.1f} | "
            f"{r['floor_p50_ms']:.1f} / {r['floor_p99_ms']:.1f} | {ttfe} |"
        )
    for r in rows:
        if "host_events" in r:
            print(
                f"{r['case']}: events per stream, "
                f"host {r['host_events']}, floor {r['floor_events']}"
            )
    errors = sum(int(r["errors"]) for r in rows)  # type: ignore[arg-type]
    print(f"\nnon-2xx / socket errors across throughput cases: {errors}")
    print(concurrent_streams(200 if args.quick else 1000, delay=0.05))
    print(memory_per_session(1000 if args.quick else 10_000))


if __name__ == "__main__":
    main()

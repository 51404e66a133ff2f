"""Profile the benchmark host under load with py-spy, and say where its time goes.

    uv run --with py-spy bench/sample.py [--case json|stream] [--duration 10] [--session]

Starts the host of ``bench/run.py``, warms it up, samples it with ``py-spy record`` while
``wrk`` loads it as the benchmark does, then prints the share of samples spent in each
package (the innermost frame's) and the hosting packages' hottest functions. The raw
samples (collapsed stacks, one line per stack and its count) are written to
``bench/profile-<case>.txt`` for any flame graph tool. Sampling slows the server down:
read the shares, not the req/s.
"""

from __future__ import annotations

import argparse
import re
import subprocess
from collections import Counter
from pathlib import Path

from apps import PROMPT
from run import HERE, Server, wrk

_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")
_HOSTING = ("agent_framework_hosting", "agent_framework_hosting_responses")


def record(case: str, *, duration: int, sessions: bool) -> Path:
    """Sample the warmed-up host with py-spy while wrk loads it; return the samples' file."""
    out = HERE / f"profile-{case}{'-session' if sessions else ''}.txt"
    body: dict[str, object] = {"model": "m", "input": PROMPT, "stream": case == "stream"}
    with Server("host") as server:
        wrk(server.url, body, duration=2, connections=32, sessions=sessions)  # warm-up
        spy = subprocess.Popen(
            [
                *("py-spy", "record", "--pid", str(server.proc.pid)),
                *("--duration", str(duration), "--rate", "200"),
                *("--format", "raw", "--output", str(out)),
            ],
            stdout=subprocess.DEVNULL,
        )
        load = wrk(server.url, body, duration=duration, connections=32, sessions=sessions)
        spy.wait(timeout=duration + 30)
    print(f"{case}: {load.rps:.0f} req/s while sampled, {load.errors} errors")
    return out


def report(samples: Path, top: int = 15) -> None:
    """Print the share of samples by package and the hosting packages' hottest functions."""
    packages: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    total = 0
    for line in samples.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        match = _FRAME.match(frames[-1])
        if match is None:
            continue
        weight = int(count)
        total += weight
        package = match["file"].split("/", 1)[0]
        packages[package] += weight
        if package in _HOSTING:
            functions[f"{match['function']} ({match['file']})"] += weight
    print(f"\n{total} samples; by package of the innermost frame:")
    for package, weight in packages.most_common(top):
        print(f"  {weight / total:6.1%}  {package}")
    print("\nhottest functions of the hosting packages (self):")
    for function, weight in functions.most_common(top):
        print(f"  {weight / total:6.1%}  {function}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--case", choices=("json", "stream"), default="stream")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--session", action="store_true", help="send the isolation header")
    args = parser.parse_args()
    report(record(args.case, duration=args.duration, sessions=args.session))


if __name__ == "__main__":
    main()

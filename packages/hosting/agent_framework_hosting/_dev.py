"""The dev command: serve an app file's agent, workflow or host on every installed channel.

``agent-framework-hosting dev path/to/app.py:agent`` (or ``python -m
agent_framework_hosting dev ...``) imports the object, mounts each channel package's
default channel (the ``agent_framework_hosting.dev_channels`` entry points), serves it
with ``serve()``, and restarts the server when a ``.py`` file under the app's folder
changes.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

from agent_framework import Workflow

from ._channel import Channel
from ._host import AgentFrameworkHost
from ._targets import describe_target, is_agent

__all__ = ["DEV_CHANNELS_GROUP", "main"]

DEV_CHANNELS_GROUP = "agent_framework_hosting.dev_channels"
"""Entry points naming each channel package's zero-argument default-channel factory.

A factory returns the channel, or a one-line reason it cannot be served with defaults
(a bot token missing, say), which the command prints before skipping it.
"""

_POLL_SECONDS = 0.5
_SKIPPED_DIRS = {"__pycache__", "node_modules", "site-packages", "venv", "env"}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; the exit status."""
    parser = argparse.ArgumentParser(
        prog="agent-framework-hosting",
        description="Serve a Microsoft Agent Framework agent or workflow.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    dev = commands.add_parser(
        "dev",
        help="serve an agent, workflow or host from a Python file, reloading on changes",
        description="Serve APP on every installed channel, restarting when a .py file "
        "under APP's folder changes.",
    )
    dev.add_argument(
        "app",
        metavar="APP",
        help="path/to/app.py:name or package.module:name; without :name, the one agent, "
        "workflow or AgentFrameworkHost the module defines",
    )
    dev.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    dev.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    dev.add_argument("--state-dir", help="keep sessions and stored objects in this directory")
    dev.add_argument("--no-reload", action="store_true", help="do not restart on changes")
    args = parser.parse_args(argv)
    if args.no_reload:
        return _serve(args.app, host=args.host, port=args.port, state_dir=args.state_dir)
    child = [sys.executable, "-m", "agent_framework_hosting", "dev", "--no-reload"]
    child += ["--host", args.host, "--port", str(args.port), args.app]
    if args.state_dir:
        child += ["--state-dir", args.state_dir]
    return _supervise(child, watched=_app_folder(args.app))


def _serve(app: str, *, host: str, port: int, state_dir: str | None) -> int:
    try:
        served = load_app(app)
        if not isinstance(served, AgentFrameworkHost):
            describe_target(served)  # a wrong target is told before any channel's note
            served = AgentFrameworkHost(served, channels=dev_channels(), state_dir=state_dir)
    except (ImportError, AttributeError, TypeError, ValueError) as error:
        print(f"agent-framework-hosting dev: {error}", file=sys.stderr)
        return 1
    served.serve(host=host, port=port)
    return 0


def load_app(app: str) -> Any:
    """The object ``app`` names: ``file.py:name``, ``module:name``, or a lone candidate.

    Raises:
        ImportError: The file or module cannot be imported.
        AttributeError: The name is not in the module, or there is no single candidate.

    """
    location, _, name = app.partition(":")
    module = _import(location)
    if name:
        if not hasattr(module, name):
            raise AttributeError(f"{location} has no {name!r}")
        return getattr(module, name)
    hosts = [n for n, v in vars(module).items() if isinstance(v, AgentFrameworkHost)]
    targets = hosts or [n for n, v in vars(module).items() if _servable(v)]
    if len(targets) != 1:
        found = ", ".join(targets) or "none"
        raise AttributeError(
            f"{location} defines {len(targets)} agents, workflows or hosts ({found}): "
            f"name one, as {location}:name"
        )
    return getattr(module, targets[0])


def dev_channels(notes: Callable[[str], None] = print) -> list[Channel]:
    """Each installed channel package's default channel; ``notes`` gets the skipped ones."""
    channels: list[Channel] = []
    for entry in sorted(entry_points(group=DEV_CHANNELS_GROUP), key=lambda e: e.name):
        made = entry.load()()
        if isinstance(made, str):
            notes(f"{entry.name}: skipped, {made}")
        else:
            channels.append(made)
    if not channels:
        raise ValueError(
            "no channel package is installed: pip install agent-framework-hosting-responses"
        )
    return channels


def _servable(value: object) -> bool:
    """An agent or a workflow instance (a factory is named explicitly, never guessed)."""
    return isinstance(value, Workflow) or is_agent(value)


def _import(location: str) -> ModuleType:
    if not location.endswith(".py"):
        sys.path.insert(0, os.getcwd())
        return importlib.import_module(location)
    path = Path(location).resolve()
    if not path.is_file():
        raise ImportError(f"{location}: no such file")
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{location} cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def _app_folder(app: str) -> Path:
    location = app.partition(":")[0]
    if location.endswith(".py"):
        return Path(location).resolve().parent
    return Path.cwd()


def _supervise(command: list[str], *, watched: Path) -> int:
    """Run ``command`` and run it again whenever a ``.py`` file under ``watched`` changes."""
    stopping = False

    def stop(_signal: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    print(f"Watching {watched} for changes", flush=True)
    seen = _stamps(watched)
    child = subprocess.Popen(command)
    try:
        while not stopping:
            time.sleep(_POLL_SECONDS)
            now = _stamps(watched)
            if now == seen:
                continue
            changed = sorted(str(p) for p in now.keys() ^ seen.keys() | _changed(now, seen))
            seen = now
            print(f"Changed: {', '.join(changed)}; restarting", flush=True)
            _end(child)
            child = subprocess.Popen(command)
    except KeyboardInterrupt:
        pass
    finally:
        _end(child)
    return 0


def _changed(now: dict[Path, float], seen: dict[Path, float]) -> set[Path]:
    return {path for path, stamp in now.items() if seen.get(path, stamp) != stamp}


def _stamps(folder: Path) -> dict[Path, float]:
    """Each ``.py`` file under ``folder`` and when it last changed."""
    stamps: dict[Path, float] = {}
    for path in _python_files(folder):
        try:
            stamps[path] = path.stat().st_mtime
        except OSError:  # removed while listing
            continue
    return stamps


def _python_files(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in _SKIPPED_DIRS]
        for file in files:
            if file.endswith(".py"):
                yield Path(root, file)


def _end(child: subprocess.Popen[bytes]) -> None:
    """Stop the server process, gently first."""
    if child.poll() is not None:
        return
    child.send_signal(signal.SIGINT)
    try:
        child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()

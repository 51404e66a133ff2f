"""Every Python snippet in the README files and docs/ runs, as a reader would run it.

A snippet runs as a script in a fresh interpreter, in an empty working directory. An HTML
comment on the line before its fence changes that:

- ``<!-- doc-test: server -->`` starts a server: it runs in the background, on a port it
  picks (``0`` in place of the ``8000`` it names), until the page's snippets are done; the
  snippets after it run against it (their ``8000`` becomes the port it announced).
- ``<!-- doc-test: continue -->`` runs with the snippets before it, as one script;
  ``<!-- doc-test: continue NAME -->`` with the script begun by ``<!-- doc-test: as NAME -->``
  (and against its server), wherever that is on the page.
- ``<!-- doc-test: pytest -->`` is a test module (with the snippets it continues): pytest
  runs it with no configuration and no plugins, and it must pass.
- ``<!-- doc-test: skip, needs a key ... -->`` or ``skip, needs a network ...`` is not run:
  the only reasons a snippet may give.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .conftest import REPO, ServerProcess, environment

PAGES = sorted(
    [REPO / "README.md", *(REPO / "docs").glob("*.md"), *(REPO / "packages").glob("*/README.md")]
)
SNIPPET = re.compile(
    r"(?:<!-- doc-test: (?P<mark>[^>]*?) -->\n)?```python\n(?P<code>.*?)^```", re.S | re.M
)
SKIP_REASONS = ("skip, needs a key", "skip, needs a network")


@dataclass
class Program:
    """One script made of one or more snippets."""

    kind: str
    code: str
    server: int | None = None
    """Which of the page's servers (counted from 0) the script runs against."""
    parts: list[int] = field(default_factory=list[int])
    """The line of each snippet in it."""


def programs_of(page: Path) -> list[Program]:
    text = page.read_text()
    found: list[Program] = []
    named: dict[str, Program] = {}
    server: int | None = None
    for snippet in SNIPPET.finditer(text):
        mark = snippet["mark"] or "run"
        line = text.count("\n", 0, snippet.start("code"))
        code = snippet["code"]
        if mark.startswith("skip"):
            assert mark.startswith(SKIP_REASONS), f"{page.name}:{line}: {mark!r}"
            continue
        if mark.startswith("continue"):
            name = mark.removeprefix("continue").strip()
            assert found, f"{page.name}:{line}: nothing to continue"
            continued = named[name] if name else found[-1]
            continued.code += "\n" + code
            continued.parts.append(line)
            continue
        if mark.startswith("as "):
            named[mark.removeprefix("as ")] = program = Program("run", code, server, [line])
            found.append(program)
            continue
        assert mark in ("run", "server", "pytest"), f"{page.name}:{line}: unknown mark {mark!r}"
        if mark == "server":
            server = 0 if server is None else server + 1
        found.append(Program(mark, code, server, [line]))
    snippets = sum(len(program.parts) for program in found)
    skipped = sum(1 for s in SNIPPET.finditer(text) if (s["mark"] or "").startswith("skip"))
    assert snippets + skipped == text.count("```python"), f"{page.name}: a snippet was not read"
    return found


def with_port(code: str, port: int | None) -> str:
    return code if port is None else re.sub(r"\b8000\b", str(port), code)


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(REPO)) for p in PAGES])
def test_every_python_snippet_runs(page: Path, tmp_path: Path) -> None:
    # ``HOST`` keeps an app that reads it (the container's) on loopback.
    env = environment(HOST="127.0.0.1")
    servers: list[ServerProcess] = []
    ports: list[int] = []
    try:
        for number, program in enumerate(programs_of(page)):
            where = f"{page.relative_to(REPO)}:{program.parts}"
            script = tmp_path / f"snippet_{number}.py"
            if program.kind == "pytest":
                script = tmp_path / f"test_snippet_{number}.py"
            if program.kind == "server":
                script.write_text(with_port(program.code, 0))
                servers.append(ServerProcess([sys.executable, str(script)], env, cwd=tmp_path))
                ports.append(int(servers[-1].url().rpartition(":")[2]))
                continue
            port = None if program.server is None else ports[program.server]
            script.write_text(with_port(program.code, port))
            command = [sys.executable, str(script)]
            if program.kind == "pytest":
                (tmp_path / "pytest.ini").write_text("[pytest]\n")
                command = [sys.executable, "-m", "pytest", "-q", "-p", "no:asyncio", str(script)]
                command += ["-p", "no:cacheprovider"]
            done = subprocess.run(
                command,
                cwd=tmp_path,
                env={**env, "PYTHONUNBUFFERED": "1"},
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert done.returncode == 0, f"{where}\n{done.stdout}\n{done.stderr}"
    finally:
        for server in servers:
            server.kill()


LINK = re.compile(r"\]\((?!https?://|mailto:|#)(?P<target>[^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(REPO)) for p in PAGES])
def test_relative_links_point_at_files_of_the_repository(page: Path) -> None:
    missing = [
        link["target"]
        for link in LINK.finditer(page.read_text())
        if not (page.parent / link["target"]).exists()
    ]
    assert missing == []


@pytest.mark.parametrize("readme", sorted((REPO / "packages").glob("*/README.md")))
def test_a_package_readme_links_nothing_relative(readme: Path) -> None:
    # A registry shows the README without the repository around it: such a link breaks.
    assert [link["target"] for link in LINK.finditer(readme.read_text())] == []

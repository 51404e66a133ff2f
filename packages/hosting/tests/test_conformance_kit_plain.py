"""The conformance kit in a project without pytest configuration, pytest-asyncio or not."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

KIT_USER = f"""
import sys
sys.path.insert(0, {str(TESTS)!r})
from test_conformance_echo import TestEchoChannelConformance as TestEchoKit
"""


@pytest.mark.parametrize(
    "plugins", [[], ["-p", "no:asyncio"]], ids=["asyncio-strict", "no-asyncio"]
)
def test_the_kit_runs_without_any_pytest_configuration(tmp_path: Path, plugins: list[str]) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_kit_user.py").write_text(KIT_USER)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *plugins],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    summary = done.stdout.strip().splitlines()[-1]
    # Everything passed: nothing skipped or failed (the framework may warn).
    assert re.fullmatch(r"\d+ passed(, \d+ warnings?)? in [\d.]+s", summary), summary

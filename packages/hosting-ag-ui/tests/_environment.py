"""What the browser and TypeScript tests need beyond the repository, and what to do without it.

Locally a missing tool skips the test with a reason that says how to get it; under
``CI=true`` it fails the test (``.ci/run`` installs the tools). The root ``conftest.py``
lets these skips, and only these, past its ceiling outside CI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

NOT_INSTALLED = "not installed here:"
"""How every skip of a missing tool starts; ``conftest.py`` knows it."""

CHROMIUM = "/usr/bin/chromium"
NODE_DIR = Path(__file__).resolve().parent / "node"


def missing(what: str, how: str) -> None:
    """Skip (locally) or fail (in CI) a test that needs ``what``."""
    message = f"{NOT_INSTALLED} {what}; {how}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def require_chromium() -> str:
    """Debian's Chromium, never a browser download."""
    if not Path(CHROMIUM).is_file():
        missing("Chromium", "apt-get install chromium (bash .ci/run installs it)")
    return CHROMIUM


def require_node_client() -> str:
    """``node``, with the AG-UI TypeScript client installed from the lock file."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing("Node.js and npm", "apt-get install nodejs npm (bash .ci/run installs them)")
        raise AssertionError  # unreachable: missing() raises
    if not (NODE_DIR / "node_modules" / "@ag-ui" / "client").is_dir():
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True, capture_output=True
        )
    return node

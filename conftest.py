"""Suite-wide pytest options: a ceiling on skipped tests, so that no skip hides silently.

``--max-skipped=N`` fails a run that skips more than ``N`` tests, or skips one without
saying why; ``.ci/run`` and ``.ci/floor`` pass the counts they expect (see there).
Outside CI, a test skipped because a tool beyond the repository is not installed here
(its reason starts with ``not installed here:``: Chromium, Node.js) does not count; under
``CI=true`` such a test fails instead of skipping.
"""

from __future__ import annotations

import os

import pytest

_NOT_INSTALLED = "not installed here:"


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--max-skipped``."""
    parser.addoption(
        "--max-skipped",
        type=int,
        default=None,
        metavar="N",
        help="fail the run when more than N tests are skipped, or one is skipped without a reason",
    )


def _skip_faults(config: pytest.Config) -> list[str]:
    """Why the run's skips fail it, if they do."""
    ceiling: int | None = config.getoption("max_skipped")
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if ceiling is None or reporter is None:
        return []
    skipped: list[pytest.TestReport] = reporter.stats.get("skipped", [])
    if os.environ.get("CI") != "true":
        skipped = [report for report in skipped if not _for_a_missing_tool(report)]
    faults = [
        f"{report.nodeid} is skipped without a reason"
        for report in skipped
        if isinstance(report.longrepr, tuple) and not _reason(report.longrepr[2])
    ]
    if len(skipped) > ceiling:
        faults.append(f"{len(skipped)} tests were skipped; at most {ceiling} are expected")
    return faults


def _for_a_missing_tool(report: pytest.TestReport) -> bool:
    longrepr = report.longrepr
    return isinstance(longrepr, tuple) and _reason(longrepr[2]).startswith(_NOT_INSTALLED)


def _reason(message: str) -> str:
    """The reason a skip gave (pytest words a missing one "Skipped" or "unconditional skip")."""
    reason = message.removeprefix("Skipped").removeprefix(":").strip()
    return "" if reason == "unconditional skip" else reason


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """Say why the skips fail the run."""
    for fault in _skip_faults(config):
        terminalreporter.write_line(f"SKIP CEILING: {fault}", red=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail a run whose skips pass the ceiling."""
    if exitstatus == pytest.ExitCode.OK and _skip_faults(session.config):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED

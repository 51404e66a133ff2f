"""Suite-wide pytest options: a ceiling on skipped tests, so that no skip hides silently.

``--max-skipped=N`` fails a run that skips more than ``N`` tests, or skips one without
saying why; ``.ci/run`` and ``.ci/floor`` pass the counts they expect (see there).
"""

from __future__ import annotations

import pytest


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
    faults = [
        f"{report.nodeid} is skipped without a reason"
        for report in skipped
        if isinstance(report.longrepr, tuple) and not _reason(report.longrepr[2])
    ]
    if len(skipped) > ceiling:
        faults.append(f"{len(skipped)} tests were skipped; at most {ceiling} are expected")
    return faults


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

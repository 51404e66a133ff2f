"""Shared state: the thread's state object, readable and writable by tools during a run.

A client sends ``state`` with a run; the run starts from it (or from the thread's last
state), announced with a ``STATE_SNAPSHOT``. A tool reads and changes it through
:func:`shared_state`; after every update of the run, a change goes out as a
``STATE_DELTA`` (a JSON Patch), and the thread keeps the state the run ended with.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Generator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, cast

__all__ = ["StateTracker", "json_patch", "shared_state"]

_current: ContextVar[dict[str, Any] | None] = ContextVar("ag_ui_shared_state", default=None)


def shared_state() -> dict[str, Any]:
    """The state of the AG-UI thread whose run calls this; change it in place.

    The client sees each change as a ``STATE_DELTA`` once the update that follows it is
    streamed, and the thread keeps the state its run ended with.

    Raises:
        LookupError: Called outside a run of the AG-UI channel.

    """
    state = _current.get()
    if state is None:
        raise LookupError("shared_state() is only available while an AG-UI run is running")
    return state


class StateTracker:
    """One run's state: what the client was last told of it, and what it is now."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state
        self._sent = copy.deepcopy(state)

    @contextmanager
    def bound(self) -> Generator[None]:
        """Make the state what :func:`shared_state` returns, for the block."""
        token = _current.set(self.state)
        try:
            yield
        finally:
            _current.reset(token)

    def changes(self) -> list[dict[str, Any]]:
        """The patch from what the client was last told to the state now (empty: none)."""
        # A round trip through JSON: what a tool stored must be what the client gets.
        now = json.loads(json.dumps(self.state))
        patch = json_patch(self._sent, now)
        self._sent = now
        return patch


def json_patch(before: Any, after: Any, path: str = "") -> list[dict[str, Any]]:
    """A JSON Patch (RFC 6902) turning ``before`` into ``after``: objects member by member."""
    if before == after:
        return []
    if not (isinstance(before, dict) and isinstance(after, dict)):
        return [{"op": "replace", "path": path, "value": after}]
    old, new = cast("dict[str, Any]", before), cast("dict[str, Any]", after)
    patch: list[dict[str, Any]] = []
    for key in old:
        if key not in new:
            patch.append({"op": "remove", "path": f"{path}/{_escaped(key)}"})
    for key, value in new.items():
        where = f"{path}/{_escaped(key)}"
        if key not in old:
            patch.append({"op": "add", "path": where, "value": value})
        else:
            patch.extend(json_patch(old[key], value, where))
    return patch


def _escaped(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")

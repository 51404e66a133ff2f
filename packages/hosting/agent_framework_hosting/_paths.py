"""Where the host keeps durable state."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypedDict, cast

__all__ = ["HostStatePaths", "resolve_state_paths"]


class HostStatePaths(TypedDict, total=False):
    """Directories for each durable state component; omitted ones stay in memory."""

    sessions: str | os.PathLike[str]
    """Reset aliases and session snapshots (diskcache)."""
    checkpoints: str | os.PathLike[str]
    """Per-conversation workflow checkpoints."""


_KNOWN = frozenset(HostStatePaths.__annotations__)


def resolve_state_paths(
    state_dir: str | os.PathLike[str] | Mapping[str, Any] | None, *, workflow: bool
) -> dict[str, Path]:
    """Turn ``state_dir`` into component directories.

    A plain path derives ``sessions/`` and, for workflow targets, ``checkpoints/``.
    A mapping names components explicitly.
    """
    if state_dir is None:
        return {}
    if isinstance(state_dir, str | os.PathLike):
        root = Path(state_dir)
        paths = {"sessions": root / "sessions"}
        if workflow:
            paths["checkpoints"] = root / "checkpoints"
        return paths
    unknown = set(state_dir) - _KNOWN
    if unknown:
        raise ValueError(
            f"Unknown state_dir component(s) {sorted(unknown)}; expected {sorted(_KNOWN)}"
        )
    paths: dict[str, Path] = {}
    for component, value in state_dir.items():
        if not isinstance(value, str | os.PathLike):
            raise TypeError(f"state_dir[{component!r}] must be a path, got {type(value).__name__}")
        paths[component] = Path(cast("str", value))
    return paths

"""The channel the dev command mounts when this package is installed."""

from __future__ import annotations

from ._channel import AGUIChannel

__all__ = ["dev_channel"]


def dev_channel() -> AGUIChannel:
    """The AG-UI channel at ``/ag-ui``, its web chat page at ``/``."""
    return AGUIChannel(page_path="/")

"""The channel the dev command mounts when this package is installed."""

from __future__ import annotations

from ._channel import ResponsesChannel

__all__ = ["dev_channel"]


def dev_channel() -> ResponsesChannel:
    """The Responses channel with its defaults: ``/responses`` and ``/v1/responses``."""
    return ResponsesChannel()

"""The channel the dev command mounts when this package is installed."""

from __future__ import annotations

from ._channel import A2AChannel

__all__ = ["dev_channel"]


def dev_channel() -> A2AChannel:
    """The A2A channel with its defaults: ``/a2a``, its card at the well-known path."""
    return A2AChannel()

"""What the host needs of agent-framework-core that not every supported version offers.

Each difference between the versions the host supports (``>=1.10,<2``) is bridged here,
once, and a test on the oldest and the newest version holds each bridge to its word.
"""

from __future__ import annotations

import inspect

from agent_framework import Content

__all__ = ["content_name", "data_content"]

_DATA_TAKES_NAME = "name" in inspect.signature(Content.from_data).parameters
"""Whether ``Content.from_data`` takes a file ``name`` (newer versions)."""


def data_content(data: bytes, media_type: str, *, name: str | None = None) -> Content:
    """Data content for the agent: a file a caller sent, with its name where it has one.

    A version whose data content has no name keeps it in ``additional_properties``
    (``"name"``) instead, so it still reaches the agent.
    """
    if _DATA_TAKES_NAME:
        return Content.from_data(data=data, media_type=media_type, name=name)
    properties = {"name": name} if name is not None else None
    return Content.from_data(data=data, media_type=media_type, additional_properties=properties)


def content_name(content: Content) -> str | None:
    """The file name of data content made by :func:`data_content`, on any supported version."""
    name = getattr(content, "name", None)
    if isinstance(name, str):
        return name
    kept = (content.additional_properties or {}).get("name")
    return kept if isinstance(kept, str) else None

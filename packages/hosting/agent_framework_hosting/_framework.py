"""What the host needs of agent-framework-core that not every supported version offers.

Each difference between the versions the host supports (``>=1.10,<2``) is bridged here,
once, and a test on the oldest and the newest version holds each bridge to its word.
"""

from __future__ import annotations

import inspect
from collections.abc import Collection
from typing import Any

from agent_framework import Content, WorkflowCheckpoint

__all__ = ["content_name", "data_content", "decode_checkpoint", "encode_checkpoint"]

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


def encode_checkpoint(checkpoint: WorkflowCheckpoint) -> Any:
    """A workflow checkpoint as JSON-compatible data, as the framework's file storage writes it.

    The framework encodes checkpoints for its file storage only (its encoding is not part
    of its public API): this is the one place the host relies on it, held to it by a test
    on the oldest and the newest supported version.
    """
    from agent_framework._workflows._checkpoint_encoding import (  # pyright: ignore[reportMissingTypeStubs]
        encode_checkpoint_value,
    )

    return encode_checkpoint_value(checkpoint.to_dict())


def decode_checkpoint(data: Any, *, allowed_types: Collection[str] = ()) -> WorkflowCheckpoint:
    """The checkpoint :func:`encode_checkpoint` encoded.

    Only ``allowed_types`` (beyond the framework's safe set, as ``module:qualname``) are
    restored from pickled values.
    """
    from agent_framework._workflows._checkpoint_encoding import (  # pyright: ignore[reportMissingTypeStubs]
        decode_checkpoint_value,
    )

    decoded = decode_checkpoint_value(data, allowed_types=frozenset(allowed_types))
    return WorkflowCheckpoint.from_dict(decoded)

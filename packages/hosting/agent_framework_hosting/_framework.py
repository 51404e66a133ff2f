"""What the host needs of agent-framework-core beyond its public API, or across its versions.

Each difference between the versions the host supports (``>=1.10,<2``) is bridged here,
once, and a test on the oldest and the newest version holds each bridge to its word.
Where the framework's public API lacks something the host needs (a workflow's pending
requests, restoring a checkpoint without running, the types its response handlers
declare, the checkpoint storage it was built with), the one reach into its internals is
here too, behind a function that says what it needs: :class:`FrameworkChanged` names the
bridge when a release moves what it reaches for, instead of an ``AttributeError`` deep in
a run.
"""

from __future__ import annotations

import inspect
from collections.abc import Collection, Mapping
from typing import Any, cast

from agent_framework import (
    CheckpointStorage,
    Content,
    Executor,
    Workflow,
    WorkflowCheckpoint,
    WorkflowEvent,
)

__all__ = [
    "FrameworkChanged",
    "coerce_to_type",
    "content_name",
    "data_content",
    "decode_checkpoint",
    "encode_checkpoint",
    "is_instance_of",
    "own_checkpoint_storage",
    "pending_request_events",
    "response_handler_types",
    "restore_checkpoint",
]

_DATA_TAKES_NAME = "name" in inspect.signature(Content.from_data).parameters
"""Whether ``Content.from_data`` takes a file ``name`` (newer versions)."""


class FrameworkChanged(RuntimeError):
    """agent-framework-core no longer offers what a bridge of the host reaches for."""

    def __init__(self, bridge: str, missing: str) -> None:
        super().__init__(
            f"agent-framework-core changed: the host's {bridge} bridge needs {missing}. "
            "Install a version of agent-framework-core this agent-framework-hosting "
            "supports, or upgrade agent-framework-hosting."
        )


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


def _internal(owner: object, attribute: str, bridge: str) -> Any:
    """``owner.<attribute>``, or :class:`FrameworkChanged` naming the bridge."""
    try:
        return getattr(owner, attribute)
    except AttributeError:
        raise FrameworkChanged(bridge, f"{type(owner).__name__}.{attribute}") from None


def _runner_context(workflow: Workflow, bridge: str) -> Any:
    return _internal(workflow, "_runner_context", bridge)


async def pending_request_events(workflow: Workflow) -> dict[str, WorkflowEvent[Any]]:
    """The workflow's requests (``ctx.request_info``) waiting for an answer, by request id."""
    context = _runner_context(workflow, "pending requests")
    pending = _internal(context, "get_pending_request_info_events", "pending requests")
    return dict(await pending())


async def restore_checkpoint(
    workflow: Workflow, checkpoint_id: str, storage: CheckpointStorage
) -> None:
    """Load a checkpoint's state into ``workflow`` without running a superstep.

    ``Workflow.run(checkpoint_id=...)`` restores and then runs; a turn must instead see
    the restored state (its pending requests) before it decides how to start the run.
    """
    runner = _internal(workflow, "_runner", "checkpoint restore")
    restore = _internal(runner, "restore_from_checkpoint", "checkpoint restore")
    await restore(checkpoint_id, storage)


def own_checkpoint_storage(workflow: Workflow) -> CheckpointStorage | None:
    """The storage the workflow was built with (``WorkflowBuilder(checkpoint_storage=...)``)."""
    context = _runner_context(workflow, "workflow checkpoint storage")
    return cast(
        "CheckpointStorage | None",
        _internal(context, "_checkpoint_storage", "workflow checkpoint storage"),
    )


def response_handler_types(executor: Executor) -> list[type[Any]]:
    """The request and response types an executor's response handlers declare."""
    handlers = cast(
        "Mapping[tuple[Any, Any], Any]",
        _internal(executor, "_response_handlers", "response handler types"),
    )
    return [kind for pair in handlers for kind in pair if isinstance(kind, type)]


def _typing_utils(name: str) -> Any:
    try:
        from agent_framework._workflows import _typing_utils  # pyright: ignore[reportPrivateUsage]
    except ImportError:
        raise FrameworkChanged(
            "answer conversion", "agent_framework._workflows._typing_utils"
        ) from None
    return _internal(_typing_utils, name, "answer conversion")


_try_coerce = _typing_utils("try_coerce_to_type")
_is_instance = _typing_utils("is_instance_of")


def coerce_to_type(value: Any, target: Any) -> Any:
    """``value`` converted to ``target`` the way the framework checks a request's answer.

    A dict becomes the dataclass or model ``target`` names, a number the numeric type;
    what does not convert comes back as it was.
    """
    return _try_coerce(value, target)


def is_instance_of(value: Any, target: Any) -> bool:
    """Whether ``value`` is a ``target`` as the framework checks it (generics included)."""
    return bool(_is_instance(value, target))


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

"""Workflow checkpoints in the host's state store: a conversation resumes in any process."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any, cast

from agent_framework import CheckpointID, WorkflowCheckpoint, WorkflowCheckpointException

from ._framework import decode_checkpoint, encode_checkpoint
from ._state import StateStore, update_state

__all__ = ["StateCheckpointStorage"]


class StateCheckpointStorage:
    """A ``CheckpointStorage`` keeping one conversation's checkpoints in a state store.

    Each checkpoint is one value (``<namespace>:<id>``), encoded as the framework's file
    storage encodes it, and an index (``<namespace>``) lists them with their workflow and
    time, so listing reads the index and the checkpoints it names. With a shared store
    (Redis) every replica resumes the conversation from the same checkpoints.

    Args:
        store: The host's state store.
        namespace: The conversation's own key prefix.
        allowed_types: Types (``module:qualname``) the workflow's state may hold beyond
            the framework's safe set; nothing else is restored from a checkpoint.

    """

    def __init__(
        self, store: StateStore, namespace: str, *, allowed_types: Collection[str] = ()
    ) -> None:
        self._store = store
        self._namespace = namespace
        self._allowed_types = frozenset(allowed_types)

    async def save(self, checkpoint: WorkflowCheckpoint) -> CheckpointID:
        """Store ``checkpoint`` and list it in the index.

        Raises:
            WorkflowCheckpointException: The checkpoint holds a value that could not be
                restored (refused at save time, as the framework's own storages do).

        """
        try:
            encoded = encode_checkpoint(checkpoint)
            decode_checkpoint(encoded, allowed_types=self._allowed_types)
        except WorkflowCheckpointException:
            raise
        except Exception as error:
            raise WorkflowCheckpointException(
                f"Checkpoint {checkpoint.checkpoint_id} cannot be stored and restored"
            ) from error
        await self._store.set(self._key(checkpoint.checkpoint_id), encoded)
        entry = {"workflow": checkpoint.workflow_name, "timestamp": checkpoint.timestamp}

        def listed(index: Any) -> dict[str, Any]:
            return {**_entries(index), checkpoint.checkpoint_id: entry}

        await update_state(self._store, self._namespace, listed)
        return checkpoint.checkpoint_id

    async def load(self, checkpoint_id: CheckpointID) -> WorkflowCheckpoint:
        """The checkpoint ``checkpoint_id``.

        Raises:
            WorkflowCheckpointException: There is no such checkpoint.

        """
        encoded = await self._store.get(self._key(checkpoint_id))
        if encoded is None:
            raise WorkflowCheckpointException(f"No checkpoint found with ID {checkpoint_id}")
        return decode_checkpoint(encoded, allowed_types=self._allowed_types)

    async def list_checkpoints(self, *, workflow_name: str) -> list[WorkflowCheckpoint]:
        """Every stored checkpoint of ``workflow_name``."""
        checkpoints: list[WorkflowCheckpoint] = []
        for checkpoint_id in await self.list_checkpoint_ids(workflow_name=workflow_name):
            encoded = await self._store.get(self._key(checkpoint_id))
            if encoded is not None:
                checkpoints.append(decode_checkpoint(encoded, allowed_types=self._allowed_types))
        return checkpoints

    async def delete(self, checkpoint_id: CheckpointID) -> bool:
        """Remove the checkpoint ``checkpoint_id``; whether it was there."""
        found = False

        def unlisted(index: Any) -> Any:
            nonlocal found
            entries = _entries(index)
            found = checkpoint_id in entries
            if not found:
                return index
            return {key: value for key, value in entries.items() if key != checkpoint_id}

        await update_state(self._store, self._namespace, unlisted)
        await self._store.delete(self._key(checkpoint_id))
        return found

    async def get_latest(self, *, workflow_name: str) -> WorkflowCheckpoint | None:
        """The newest checkpoint of ``workflow_name``, or ``None``."""
        ids = await self.list_checkpoint_ids(workflow_name=workflow_name)
        return await self.load(ids[-1]) if ids else None

    async def list_checkpoint_ids(self, *, workflow_name: str) -> list[CheckpointID]:
        """The ids of ``workflow_name``'s checkpoints, oldest first."""
        entries = _entries(await self._store.get(self._namespace))
        mine = [
            (_seconds(entry.get("timestamp")), checkpoint_id)
            for checkpoint_id, entry in entries.items()
            if entry.get("workflow") == workflow_name
        ]
        return [checkpoint_id for _, checkpoint_id in sorted(mine)]

    async def clear(self) -> None:
        """Remove every checkpoint of the conversation (a reset)."""
        entries = _entries(await self._store.get(self._namespace))
        await self._store.delete(self._namespace, *(self._key(key) for key in entries))

    def _key(self, checkpoint_id: str) -> str:
        return f"{self._namespace}:{checkpoint_id}"


def _entries(index: Any) -> dict[str, Mapping[str, Any]]:
    if not isinstance(index, Mapping):
        return {}
    return {
        str(key): cast("Mapping[str, Any]", value)
        for key, value in cast("Mapping[str, Any]", index).items()
        if isinstance(value, Mapping)
    }


def _seconds(timestamp: Any) -> float:
    """A checkpoint's ISO time as seconds, for ordering (an unreadable one first)."""
    try:
        return datetime.fromisoformat(str(timestamp)).timestamp()
    except ValueError:
        return float("-inf")

"""Where each conversation of a workflow target keeps its checkpoints.

In memory by default; under ``<directory>/<key hash>/`` with a checkpoint directory; with
a :class:`CheckpointStorage` (the workflow's own, or ``checkpoint_location=``), in the
conversation's scope of that storage; or, on a state store other processes share, in
that store (``checkpoints:<key hash>``). A directory the alpha left at
``<directory>/<key>/`` moves to the hashed layout on the conversation's first use.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
from pathlib import Path

from agent_framework import (
    CheckpointStorage,
    FileCheckpointStorage,
    InMemoryCheckpointStorage,
    Workflow,
    WorkflowCheckpoint,
)

from ._state import StateStore
from ._state_checkpoints import StateCheckpointStorage
from ._workflow_requests import checkpoint_types

__all__ = ["ConversationCheckpoints", "ScopedCheckpointStorage"]

logger = logging.getLogger("agent_framework.hosting")

_DIGEST = re.compile(r"[0-9a-f]{32}")


def _digest(slot_key: str) -> str:
    return hashlib.sha256(slot_key.encode()).hexdigest()[:32]


class ConversationCheckpoints:
    """Hands each conversation its own checkpoint storage, from one configuration.

    Args:
        directory: A directory holding a subdirectory per conversation.
        storage: A storage every conversation shares, each in a scope of its own.
        store: The host's state store, holding each conversation's checkpoints.

    """

    def __init__(
        self,
        *,
        directory: Path | None = None,
        storage: CheckpointStorage | None = None,
        store: StateStore | None = None,
    ) -> None:
        if sum(given is not None for given in (directory, storage, store)) > 1:
            raise ValueError("Give checkpoints one place: a directory, a storage or a store")
        self.directory = directory
        self.storage = storage
        self.store = store

    def for_conversation(self, slot_key: str, workflow: Workflow) -> CheckpointStorage:
        """The storage of the conversation whose state is ``slot_key``."""
        if self.storage is not None:
            return ScopedCheckpointStorage(self.storage, _digest(slot_key))
        if self.store is not None:
            return StateCheckpointStorage(
                self.store,
                f"checkpoints:{_digest(slot_key)}",
                allowed_types=checkpoint_types(workflow),
            )
        if self.directory is None:
            return InMemoryCheckpointStorage()
        hashed = self.directory / _digest(slot_key)
        _adopt_alpha_directory(self.directory, slot_key, hashed)
        return FileCheckpointStorage(
            str(hashed), allowed_checkpoint_types=checkpoint_types(workflow)
        )


def _adopt_alpha_directory(directory: Path, slot_key: str, hashed: Path) -> None:
    """Move the alpha's ``<directory>/<key>/`` to ``hashed`` when only the former exists.

    The alpha named a conversation's directory by its isolation key as it was; a key
    that is no single path component, or that looks like a digest of this layout, was
    never such a directory here and is left alone.
    """
    if (
        not slot_key.strip(".")
        or any(separator in slot_key for separator in ("/", "\\", "\x00"))
        or _DIGEST.fullmatch(slot_key)
    ):
        return
    legacy = directory / slot_key
    if legacy.is_dir() and not hashed.exists():
        legacy.rename(hashed)
        logger.info("Moved a conversation's checkpoints to %s", hashed)


class ScopedCheckpointStorage:
    """One conversation's scope of a storage that many share.

    Its checkpoints are saved under the workflow's name suffixed with the scope
    (``review@<scope>``), so listing and finding the latest see only them; each is given
    back under the workflow's own name.
    """

    def __init__(self, storage: CheckpointStorage, scope: str) -> None:
        self.storage = storage
        self._suffix = f"@{scope}"

    def _scoped(self, workflow_name: str) -> str:
        return workflow_name + self._suffix

    def _unscoped(self, checkpoint: WorkflowCheckpoint) -> WorkflowCheckpoint:
        name = checkpoint.workflow_name.removesuffix(self._suffix)
        return dataclasses.replace(checkpoint, workflow_name=name)

    async def save(self, checkpoint: WorkflowCheckpoint) -> str:
        """Save ``checkpoint`` in this scope."""
        scoped = dataclasses.replace(
            checkpoint, workflow_name=self._scoped(checkpoint.workflow_name)
        )
        return await self.storage.save(scoped)

    async def load(self, checkpoint_id: str) -> WorkflowCheckpoint:
        """Load a checkpoint by id."""
        return self._unscoped(await self.storage.load(checkpoint_id))

    async def list_checkpoints(self, *, workflow_name: str) -> list[WorkflowCheckpoint]:
        """The checkpoints of ``workflow_name`` in this scope."""
        found = await self.storage.list_checkpoints(workflow_name=self._scoped(workflow_name))
        return [self._unscoped(checkpoint) for checkpoint in found]

    async def list_checkpoint_ids(self, *, workflow_name: str) -> list[str]:
        """The ids of the checkpoints of ``workflow_name`` in this scope."""
        return await self.storage.list_checkpoint_ids(workflow_name=self._scoped(workflow_name))

    async def get_latest(self, *, workflow_name: str) -> WorkflowCheckpoint | None:
        """The newest checkpoint of ``workflow_name`` in this scope."""
        latest = await self.storage.get_latest(workflow_name=self._scoped(workflow_name))
        return None if latest is None else self._unscoped(latest)

    async def delete(self, checkpoint_id: str) -> bool:
        """Delete a checkpoint by id."""
        return await self.storage.delete(checkpoint_id)

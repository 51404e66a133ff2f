"""Workflow checkpoints in the state store: stored, listed, restored, and seen elsewhere."""

from __future__ import annotations

from pathlib import Path

import pytest
from agent_framework import WorkflowCheckpointException
from agent_framework_hosting import DiskStateStore, MemoryStateStore
from agent_framework_hosting._state_checkpoints import (  # pyright: ignore[reportPrivateUsage]
    StateCheckpointStorage,
)
from agent_framework_hosting._workflow_requests import (  # pyright: ignore[reportPrivateUsage]
    checkpoint_types,
)
from agent_framework_hosting.testing import review_workflow


async def test_a_workflow_s_checkpoints_are_stored_and_restored() -> None:
    workflow = review_workflow()
    storage = StateCheckpointStorage(
        MemoryStateStore(), "conv", allowed_types=checkpoint_types(workflow)
    )
    await workflow.run("first", checkpoint_storage=storage)
    ids = await storage.list_checkpoint_ids(workflow_name=workflow.name)
    assert ids
    latest = await storage.get_latest(workflow_name=workflow.name)
    assert latest is not None
    assert latest.checkpoint_id == ids[-1]
    assert (await storage.load(ids[0])).workflow_name == workflow.name
    listed = await storage.list_checkpoints(workflow_name=workflow.name)
    assert [checkpoint.checkpoint_id for checkpoint in listed] == ids


async def test_another_process_sees_the_same_checkpoints(tmp_path: Path) -> None:
    workflow = review_workflow()
    allowed = checkpoint_types(workflow)
    here = StateCheckpointStorage(DiskStateStore(tmp_path), "conv", allowed_types=allowed)
    await workflow.run("first", checkpoint_storage=here)
    there = StateCheckpointStorage(DiskStateStore(tmp_path), "conv", allowed_types=allowed)
    assert await there.list_checkpoint_ids(workflow_name=workflow.name) == (
        await here.list_checkpoint_ids(workflow_name=workflow.name)
    )
    restored = review_workflow()
    latest = await there.get_latest(workflow_name=workflow.name)
    assert latest is not None
    # The restored instance carries on from the stored state: it asks its question again.
    result = await restored.run(checkpoint_id=latest.checkpoint_id, checkpoint_storage=there)
    assert result.get_request_info_events()


async def test_conversations_keep_their_checkpoints_apart() -> None:
    store = MemoryStateStore()
    workflow = review_workflow()
    mine = StateCheckpointStorage(store, "mine", allowed_types=checkpoint_types(workflow))
    yours = StateCheckpointStorage(store, "yours", allowed_types=checkpoint_types(workflow))
    await workflow.run("first", checkpoint_storage=mine)
    assert await yours.list_checkpoint_ids(workflow_name=workflow.name) == []


async def test_a_deleted_checkpoint_is_gone_and_an_unknown_one_is_refused() -> None:
    workflow = review_workflow()
    storage = StateCheckpointStorage(
        MemoryStateStore(), "conv", allowed_types=checkpoint_types(workflow)
    )
    await workflow.run("first", checkpoint_storage=storage)
    [first, *_] = await storage.list_checkpoint_ids(workflow_name=workflow.name)
    assert await storage.delete(first)
    assert not await storage.delete(first)
    assert first not in await storage.list_checkpoint_ids(workflow_name=workflow.name)
    with pytest.raises(WorkflowCheckpointException):
        await storage.load(first)


async def test_clearing_removes_every_checkpoint() -> None:
    workflow = review_workflow()
    store = MemoryStateStore()
    storage = StateCheckpointStorage(store, "conv", allowed_types=checkpoint_types(workflow))
    await workflow.run("first", checkpoint_storage=storage)
    await storage.clear()
    assert await storage.list_checkpoint_ids(workflow_name=workflow.name) == []
    assert len(store) == 0

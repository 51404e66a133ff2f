from dataclasses import dataclass
from typing import cast

import pytest
from agent_framework import Content, InMemoryCheckpointStorage, Workflow, WorkflowBuilder
from agent_framework_hosting import content_name, data_content
from agent_framework_hosting._framework import (
    FrameworkChanged,
    coerce_to_type,
    is_instance_of,
    own_checkpoint_storage,
    pending_request_events,
    response_handler_types,
    restore_checkpoint,
)
from agent_framework_hosting.testing import ReviewRequest, review_workflow


def test_data_content_keeps_the_file_name_on_every_supported_version() -> None:
    content = data_content(b"%PDF-1.4", "application/pdf", name="report.pdf")
    assert isinstance(content, Content)
    assert content.media_type == "application/pdf"
    assert content_name(content) == "report.pdf"


def test_data_content_without_a_name_has_none() -> None:
    content = data_content(b"abc", "text/plain")
    assert content_name(content) is None


# The reaches into the framework's internals: each bridge does what the host needs of it
# on the installed version, and says so by name when a release moves what it reaches for.


async def test_pending_requests_are_read_from_a_workflow_after_its_run() -> None:
    workflow = review_workflow(reviewers=2)
    await workflow.run("plan")
    pending = await pending_request_events(workflow)
    assert [event.data.reviewer for event in pending.values()] == [1, 2]


async def test_a_checkpoint_restores_into_a_new_instance_without_running_it() -> None:
    storage = InMemoryCheckpointStorage()
    await review_workflow().run("plan", checkpoint_storage=storage)
    latest = await storage.get_latest(workflow_name="review")
    assert latest is not None
    fresh = review_workflow()
    await restore_checkpoint(fresh, latest.checkpoint_id, storage)
    assert [event.data.draft for event in (await pending_request_events(fresh)).values()] == [
        "Draft 1: plan"
    ]


def test_the_storage_a_workflow_was_built_with_is_found() -> None:
    storage = InMemoryCheckpointStorage()
    drafter = review_workflow().get_start_executor()
    with_storage = WorkflowBuilder(start_executor=drafter, checkpoint_storage=storage).build()
    assert own_checkpoint_storage(with_storage) is storage
    assert own_checkpoint_storage(review_workflow()) is None


def test_response_handler_types_are_the_request_and_answer_types() -> None:
    executor = review_workflow().get_start_executor()
    assert set(response_handler_types(executor)) == {ReviewRequest, bool}


@dataclass
class Answer:
    approved: bool


def test_answers_are_converted_to_the_declared_type() -> None:
    converted = coerce_to_type({"approved": True}, Answer)
    assert converted == Answer(approved=True)
    assert is_instance_of(converted, Answer)
    assert not is_instance_of("yes", Answer)


async def test_a_moved_internal_fails_naming_the_bridge() -> None:
    class Moved:
        name = "moved"

    with pytest.raises(
        FrameworkChanged, match=r"pending requests bridge needs Moved\._runner_context"
    ):
        await pending_request_events(cast("Workflow", Moved()))

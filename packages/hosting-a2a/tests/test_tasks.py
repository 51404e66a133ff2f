"""Every A2A method through the SDK's client, over both transports, against a loopback host."""

from __future__ import annotations

import asyncio

import pytest
from a2a.client import A2AClientError
from a2a.types.a2a_pb2 import (
    CancelTaskRequest,
    GetTaskRequest,
    ListTasksRequest,
    StreamResponse,
    SubscribeToTaskRequest,
    Task,
    TaskState,
)
from a2a.utils.errors import (
    InvalidParamsError,
    TaskNotCancelableError,
    TaskNotFoundError,
    UnsupportedOperationError,
)
from a2a_harness import (
    JSONRPC,
    REST,
    artifact_text,
    collect,
    send_request,
    serving,
    user_message,
)
from agent_framework import Agent
from agent_framework_hosting import PermissionDenied
from agent_framework_hosting.testing import OfflineChatClient

TRANSPORTS = pytest.mark.parametrize("transport", [JSONRPC, REST])


def slow_agent(delay: float = 0.05, chunks: int = 8) -> Agent:
    return Agent(client=OfflineChatClient(delay=delay, chunks=chunks), name="slow")


async def until_state(client: object, task_id: str, states: set[int]) -> Task:
    """Poll the task until it is in one of ``states`` (at most 400 reads)."""
    task = Task()
    for _ in range(400):
        task = await client.get_task(GetTaskRequest(id=task_id))  # type: ignore[attr-defined]
        if task.status.state in states:
            return task
        await asyncio.sleep(0.025)
    raise AssertionError(f"task stayed {TaskState.Name(task.status.state)}")


@TRANSPORTS
async def test_send_message_completes_a_task_with_the_reply_as_an_artifact(transport: str) -> None:
    async with serving() as served, served.client(transport=transport, streaming=False) as client:
        [event] = await collect(client.send_message(send_request(user_message("hello"))))
    assert event.task.status.state == TaskState.TASK_STATE_COMPLETED
    assert artifact_text(event.task) == "Echo: hello (turn 1)"
    assert [m.parts[0].text for m in event.task.history] == ["hello"]


@TRANSPORTS
async def test_the_same_context_continues_its_conversation(transport: str) -> None:
    async with serving() as served, served.client(transport=transport, streaming=False) as client:
        [first] = await collect(client.send_message(send_request(user_message("one"))))
        again = user_message("two", context_id=first.task.context_id)
        [second] = await collect(client.send_message(send_request(again)))
        [other] = await collect(client.send_message(send_request(user_message("three"))))
    assert artifact_text(second.task) == "Echo: two (turn 2)"
    assert second.task.id != first.task.id
    assert artifact_text(other.task) == "Echo: three (turn 1)"


@TRANSPORTS
async def test_streaming_appends_chunks_to_one_artifact_and_marks_the_last(transport: str) -> None:
    async with serving() as served, served.client(transport=transport) as client:
        events = await collect(client.send_message(send_request(user_message("a b c d"))))
    kinds = [event.WhichOneof("payload") for event in events]
    assert kinds[0] == "task"
    assert events[-1].status_update.status.state == TaskState.TASK_STATE_COMPLETED
    updates = [event.artifact_update for event in events if event.HasField("artifact_update")]
    assert len(updates) > 1
    assert len({update.artifact.artifact_id for update in updates}) == 1
    assert [update.append for update in updates] == [False] + [True] * (len(updates) - 1)
    assert [update.last_chunk for update in updates] == [False] * (len(updates) - 1) + [True]
    text = "".join(part.text for update in updates for part in update.artifact.parts)
    assert text == "Echo: a b c d (turn 1)"


@TRANSPORTS
async def test_get_task_reads_the_stored_task(transport: str) -> None:
    async with serving() as served, served.client(transport=transport, streaming=False) as client:
        [event] = await collect(client.send_message(send_request(user_message("keep me"))))
        read = await client.get_task(GetTaskRequest(id=event.task.id, history_length=0))
    assert read.id == event.task.id
    assert artifact_text(read) == "Echo: keep me (turn 1)"
    assert len(read.history) == 0


@TRANSPORTS
async def test_an_unknown_task_is_not_found(transport: str) -> None:
    async with serving() as served, served.client(transport=transport) as client:
        with pytest.raises(TaskNotFoundError):
            await client.get_task(GetTaskRequest(id="no-such-task"))


@TRANSPORTS
async def test_list_tasks_filters_by_context_newest_first(transport: str) -> None:
    async with serving() as served, served.client(transport=transport, streaming=False) as client:
        [first] = await collect(client.send_message(send_request(user_message("one"))))
        context_id = first.task.context_id
        [second] = await collect(
            client.send_message(send_request(user_message("two", context_id=context_id)))
        )
        await collect(client.send_message(send_request(user_message("elsewhere"))))
        page = await client.list_tasks(ListTasksRequest(context_id=context_id))
        everything = await client.list_tasks(ListTasksRequest(page_size=2))
    assert [task.id for task in page.tasks] == [second.task.id, first.task.id]
    assert all(not task.artifacts for task in page.tasks)
    assert everything.total_size == 3
    assert len(everything.tasks) == 2
    assert everything.next_page_token


@TRANSPORTS
async def test_cancel_stops_a_running_task(transport: str) -> None:
    agent = slow_agent(delay=30)
    async with (
        serving(agent) as served,
        served.client(transport=transport, streaming=False) as client,
    ):
        request = send_request(user_message("take your time"), return_immediately=True)
        [event] = await collect(client.send_message(request))
        await until_state(client, event.task.id, {TaskState.TASK_STATE_WORKING})
        cancelled = await client.cancel_task(CancelTaskRequest(id=event.task.id))
        read = await client.get_task(GetTaskRequest(id=event.task.id))
    assert cancelled.status.state == TaskState.TASK_STATE_CANCELED
    assert read.status.state == TaskState.TASK_STATE_CANCELED


@TRANSPORTS
async def test_a_finished_task_is_not_cancelable(transport: str) -> None:
    async with serving() as served, served.client(transport=transport, streaming=False) as client:
        [event] = await collect(client.send_message(send_request(user_message("done"))))
        with pytest.raises(TaskNotCancelableError):
            await client.cancel_task(CancelTaskRequest(id=event.task.id))


@TRANSPORTS
async def test_a_finished_task_takes_no_more_messages(transport: str) -> None:
    async with serving() as served, served.client(transport=transport, streaming=False) as client:
        [event] = await collect(client.send_message(send_request(user_message("done"))))
        again = user_message("more", task_id=event.task.id)
        with pytest.raises(UnsupportedOperationError):
            await collect(client.send_message(send_request(again)))


@TRANSPORTS
async def test_a_task_of_another_context_is_refused(transport: str) -> None:
    agent = slow_agent(delay=30)
    async with (
        serving(agent) as served,
        served.client(transport=transport, streaming=False) as client,
    ):
        [event] = await collect(
            client.send_message(send_request(user_message("x"), return_immediately=True))
        )
        wrong = user_message("y", task_id=event.task.id, context_id="another")
        with pytest.raises(InvalidParamsError):
            await collect(client.send_message(send_request(wrong)))
        await client.cancel_task(CancelTaskRequest(id=event.task.id))


@TRANSPORTS
async def test_resubscribing_after_a_dropped_stream_loses_and_repeats_nothing(
    transport: str,
) -> None:
    agent = Agent(client=OfflineChatClient(delay=0.05, chunk_chars=3), name="slow")
    async with serving(agent) as served:
        seen: list[StreamResponse] = []
        async with served.client(transport=transport) as client:
            stream = client.send_message(send_request(user_message("a long enough reply")))
            async for event in stream:
                seen.append(event)
                if event.HasField("artifact_update"):
                    break  # the client drops the connection mid-stream
            await stream.aclose()  # type: ignore[attr-defined]
        task_id = seen[0].task.id
        async with served.client(transport=transport) as client:
            later = await collect(client.subscribe(SubscribeToTaskRequest(id=task_id)))
            final = await client.get_task(GetTaskRequest(id=task_id))
    snapshot = later[0].task
    assert snapshot.id == task_id
    after = "".join(
        part.text
        for event in later[1:]
        if event.HasField("artifact_update")
        for part in event.artifact_update.artifact.parts
    )
    assert artifact_text(final) == "Echo: a long enough reply (turn 1)"
    assert artifact_text(snapshot) + after == artifact_text(final)
    assert later[-1].status_update.status.state == TaskState.TASK_STATE_COMPLETED


@TRANSPORTS
async def test_subscribing_to_a_finished_task_is_unsupported(transport: str) -> None:
    async with serving() as served, served.client(transport=transport) as client:
        events = await collect(client.send_message(send_request(user_message("done"))))
        with pytest.raises((UnsupportedOperationError, A2AClientError)):
            await collect(client.subscribe(SubscribeToTaskRequest(id=events[0].task.id)))


async def test_an_agent_failure_fails_the_task_without_its_cause() -> None:
    agent = Agent(client=OfflineChatClient(error=RuntimeError("secret-cause-9")), name="broken")
    async with serving(agent) as served, served.client(streaming=False) as client:
        [event] = await collect(client.send_message(send_request(user_message("fail"))))
    assert event.task.status.state == TaskState.TASK_STATE_FAILED
    assert "secret-cause-9" not in str(event.task)
    assert event.task.status.message.parts[0].text == "The agent failed to complete the task."


async def test_a_run_refused_for_permissions_leaves_the_task_auth_required() -> None:
    agent = Agent(client=OfflineChatClient(error=PermissionDenied("needs orders:read")), name="x")
    async with serving(agent) as served, served.client(streaming=False) as client:
        [event] = await collect(client.send_message(send_request(user_message("my orders"))))
        retry = user_message("again, with more rights", task_id=event.task.id)
        [again] = await collect(client.send_message(send_request(retry)))
    assert event.task.status.state == TaskState.TASK_STATE_AUTH_REQUIRED
    assert "needs orders:read" not in str(event.task)
    assert again.task.id == event.task.id
    assert again.task.status.state == TaskState.TASK_STATE_AUTH_REQUIRED

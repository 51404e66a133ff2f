"""A task run's log in the state store: bounded past ``max_log_events``, replayed intact."""

from __future__ import annotations

import asyncio
import threading

import pytest
from a2a.types.a2a_pb2 import GetTaskRequest, StreamResponse, SubscribeToTaskRequest, TaskState
from a2a.utils.errors import TaskNotFoundError
from a2a_harness import JSONRPC, REST, artifact_text, collect, send_request, serving, user_message
from agent_framework import Agent, AgentResponseUpdate
from agent_framework_hosting import RunLog
from agent_framework_hosting.testing import OfflineChatClient
from agent_framework_hosting_a2a import A2AChannel

TRANSPORTS = pytest.mark.parametrize("transport", [JSONRPC, REST])


class HeldStream:
    """A stream update hook that holds the run after ``after`` updates until released."""

    def __init__(self, after: int) -> None:
        self.after = after
        self.seen = 0
        self.release = threading.Event()

    async def __call__(self, update: AgentResponseUpdate) -> AgentResponseUpdate:
        self.seen += 1
        if self.seen == self.after:
            await asyncio.to_thread(self.release.wait)
        return update


def test_max_log_events_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="max_log_events"):
        A2AChannel(max_log_events=0)


@TRANSPORTS
async def test_a_long_run_s_log_stays_bounded_and_a_resubscriber_gets_the_whole_text(
    transport: str,
) -> None:
    cap = 5
    held = HeldStream(after=20)
    channel = A2AChannel(max_log_events=cap, stream_update_hook=held)
    agent = Agent(client=OfflineChatClient(chunk_chars=1), name="chatty")
    text = "a reply long enough to pass the log's cap many times over"
    async with serving(agent, channel=channel) as served:
        async with served.client(transport=transport) as client:
            stream = client.send_message(send_request(user_message(text)))
            first: list[StreamResponse] = []
            async for event in stream:
                first.append(event)
                if event.HasField("artifact_update"):
                    break  # the client drops the connection mid-stream
            await stream.aclose()  # type: ignore[attr-defined]
        task_id = first[0].task.id
        async with served.client(transport=transport) as client:
            later = client.subscribe(SubscribeToTaskRequest(id=task_id))
            snapshot = await anext(later)  # the run is held: it is still working
            held.release.set()
            rest = await collect(later)
            final = await client.get_task(GetTaskRequest(id=task_id))
        entries = await RunLog(served.host.state_store, "a2a").entries(f"{task_id}/0")
    streamed = "".join(
        part.text
        for event in rest
        if event.HasField("artifact_update")
        for part in event.artifact_update.artifact.parts
    )
    assert artifact_text(final) == f"Echo: {text} (turn 1)"
    assert artifact_text(snapshot.task) + streamed == artifact_text(final)
    assert rest[-1].status_update.status.state == TaskState.TASK_STATE_COMPLETED
    # The cap, the merged rest of the text, and the completed status.
    assert cap < len(entries) <= cap + 2


async def test_an_ended_run_s_log_expires_with_its_task() -> None:
    channel = A2AChannel(task_ttl_seconds=1.0)
    async with serving(channel=channel) as served:
        async with served.client(streaming=False) as client:
            [event] = await collect(client.send_message(send_request(user_message("hello"))))
        run_id = f"{event.task.id}/0"  # its first run
        log = RunLog(served.host.state_store, "a2a")
        assert await log.entries(run_id)  # kept while its task is
        await asyncio.sleep(1.5)
        assert await log.writer(run_id) is None
        assert await log.entries(run_id) == []
        async with served.client(streaming=False) as client:
            with pytest.raises(TaskNotFoundError):
                await client.get_task(GetTaskRequest(id=event.task.id))

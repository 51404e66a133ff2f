"""A task's runs: a host turn owned by a lease, its events logged, its outcome stored.

Every message that starts or continues a task starts a run (``agent_framework_hosting.
BackgroundRuns``): it outlives the request that started it, a cancel reaches it from any
process sharing the state store, and a run whose process died is settled as failed by
whoever looks at it next. The run goes through ``ChannelContext`` (hooks, the
conversation's lease, its session) and appends each event — status updates, artifact
updates — to the run's log, applies it to its copy of the task, and queues status
updates for push delivery. When it ends it stores the task as it ended and completes
the log (bounded: past ``max_log_events`` entries, text chunks are merged). It holds
its caller's admission (``ChannelContext.admit``) from before its task was stored until
its last status is logged, or until it ends without one.

States: ``working`` while it runs; then ``completed``; ``input-required`` when a
workflow asks for input (the requests are kept with the task, and the status message
carries them); ``auth-required`` when the run was refused for the caller's permissions
(``PermissionDenied``); ``canceled``; ``failed`` (the agent failed, its conversation
stayed busy, or its process died).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from a2a.types.a2a_pb2 import (
    Part,
    StreamResponse,
    Task,
    TaskArtifactUpdateEvent,
    TaskState,
    TaskStatus,
    TaskStatusUpdateEvent,
)
from agent_framework_hosting import (
    BackgroundRuns,
    BoundedLogWriter,
    ChannelContext,
    ChannelRequest,
    ConversationBusy,
    PermissionDenied,
    RunAdmission,
    RunLogWriter,
    encode_json,
)
from google.protobuf.timestamp_pb2 import Timestamp

from ._errors import AGENT_FAILED
from ._push import PushDelivery
from ._render import (
    ArtifactStream,
    agent_message,
    data_part,
    is_text_chunk,
    merged_chunks,
    pending_requests,
    result_artifacts,
)
from ._tasks import HostTaskStore, PendingRequest, TaskRecord, apply_event, event_json

__all__ = ["ENDED", "INTERRUPTED", "TaskRuns", "status_event"]

logger = logging.getLogger("agent_framework.hosting.a2a")

ENDED = frozenset(
    {
        TaskState.TASK_STATE_COMPLETED,
        TaskState.TASK_STATE_FAILED,
        TaskState.TASK_STATE_CANCELED,
        TaskState.TASK_STATE_REJECTED,
    }
)
"""Terminal states: the task takes no more messages."""

INTERRUPTED = frozenset({TaskState.TASK_STATE_INPUT_REQUIRED, TaskState.TASK_STATE_AUTH_REQUIRED})
"""States in which the task waits for the client's next message."""

_LOST = "The task was interrupted: the process running it stopped."
_BUSY = "The conversation stayed busy with another task; send the message again."
_PERMISSION = "The agent needs more permissions for this task; send the message again with them."


def status_event(task: Task, state: TaskState, text: str | None = None) -> StreamResponse:
    """A status update of ``task`` to ``state``, stamped now, with an agent message of ``text``."""
    stamp = Timestamp()
    stamp.FromDatetime(datetime.now(UTC))
    status = TaskStatus(state=state, timestamp=stamp)
    if text is not None:
        status.message.CopyFrom(
            agent_message(task.id, task.context_id, uuid.uuid4().hex, [Part(text=text)])
        )
    return StreamResponse(
        status_update=TaskStatusUpdateEvent(
            task_id=task.id, context_id=task.context_id, status=status
        )
    )


class TaskRuns:
    """The channel's task runs on one host."""

    def __init__(
        self,
        context: ChannelContext,
        tasks: HostTaskStore,
        push: PushDelivery,
        *,
        lease_seconds: float,
        max_log_events: int,
    ) -> None:
        self._context = context
        self._tasks = tasks
        self._push = push
        self._max_log_events = max_log_events
        self.runs = BackgroundRuns(
            context.state_store,
            "a2a",
            settle=self._settle_orphan,
            lease_seconds=lease_seconds,
            ended_ttl=tasks.ttl,
        )

    async def start(
        self,
        record: TaskRecord,
        run: ChannelRequest,
        admission: RunAdmission,
        *,
        stream: bool,
        protocol_request: Any,
    ) -> None:
        """Open the run's log with the task as it starts, and start the run.

        The run holds ``admission`` (its caller's, taken) and gives it back as it ends,
        however it ends; if it cannot start, at once.
        """
        try:
            writer = await self._tasks.logs.open(record.run_id, record.partition)
            events = _Events(record.task, self._bounded(writer), self._push, admission)
            await events.emit(StreamResponse(task=record.task))
        except BaseException:
            await admission.release()
            raise
        work = self._execute(record, run, events, stream=stream, protocol_request=protocol_request)
        await self.runs.start(record.run_id, work, on_end=admission.release)

    async def aclose(self) -> None:
        """Stop this process's runs (each ends canceled) and push delivery, at shutdown."""
        await self.runs.stop_all()
        await self._push.aclose()

    async def settle_if_orphaned(self, record: TaskRecord) -> bool:
        """Settle the record's run as failed if its process is gone; whether it did."""
        if not record.running:
            return False
        return await self.runs.settle_if_orphaned(record.run_id)

    async def end(self, record: TaskRecord, state: TaskState, text: str) -> TaskRecord:
        """End a task that has no run going (waiting for input) in ``state``; its new record."""
        task = Task()
        task.CopyFrom(record.task)
        event = status_event(task, state, text)
        apply_event(task, event)
        changed = await self._tasks.change(
            task.id, record.partition, lambda r: replace(r, task=task, pending=())
        )
        self._push.notify(task.id, event)
        return changed or record

    async def _execute(
        self,
        record: TaskRecord,
        run: ChannelRequest,
        events: _Events,
        *,
        stream: bool,
        protocol_request: Any,
    ) -> None:
        task = events.task
        pending: list[PendingRequest] = []
        try:
            await events.emit(status_event(task, TaskState.TASK_STATE_WORKING))
            if stream:
                response = await self._streamed(record, run, events, protocol_request)
            else:
                result = await self._context.run(run, protocol_request=protocol_request)
                response = result.result
                encode_json(response.to_dict())  # a result JSON cannot carry fails the run
                for artifact in result_artifacts(response, task_id=task.id, run=record.run):
                    update = TaskArtifactUpdateEvent(
                        task_id=task.id,
                        context_id=task.context_id,
                        artifact=artifact,
                        last_chunk=True,
                    )
                    await events.emit(StreamResponse(artifact_update=update))
            pending = pending_requests(response)
            if pending:
                await events.emit(_input_required(task, pending))
            else:
                await events.emit(status_event(task, TaskState.TASK_STATE_COMPLETED))
        except asyncio.CancelledError:
            await events.emit(status_event(task, TaskState.TASK_STATE_CANCELED, "Canceled."))
            await self._finish(record, events, pending)
            raise
        except PermissionDenied:
            await events.emit(status_event(task, TaskState.TASK_STATE_AUTH_REQUIRED, _PERMISSION))
        except ConversationBusy:
            await events.emit(status_event(task, TaskState.TASK_STATE_FAILED, _BUSY))
        except Exception:
            logger.exception("A2A task %s failed", task.id)
            await events.emit(status_event(task, TaskState.TASK_STATE_FAILED, AGENT_FAILED))
        await self._finish(record, events, pending)

    async def _streamed(
        self, record: TaskRecord, run: ChannelRequest, events: _Events, protocol_request: Any
    ) -> Any:
        task = events.task
        chunks = ArtifactStream(task.id, task.context_id, record.run)
        hosted = await self._context.run_stream(run, protocol_request=protocol_request)
        async with hosted:
            async for update in hosted:
                for event in chunks.update(update):
                    await events.emit(event)
            final = await hosted.get_final_response()
        encode_json(final.result.to_dict())  # a result JSON cannot carry fails the run
        for event in chunks.finish(final.result):
            await events.emit(event)
        return final.result

    async def _finish(
        self, record: TaskRecord, events: _Events, pending: Sequence[PendingRequest]
    ) -> None:
        """Store the task as the run left it, then complete the log."""
        ended = events.task

        def settled(current: TaskRecord) -> TaskRecord | None:
            if current.run != record.run:
                return None  # a later run owns the record
            return replace(current, task=ended, running=False, pending=tuple(pending))

        await self._tasks.change(ended.id, record.partition, settled)
        await events.close()

    def _bounded(self, writer: RunLogWriter) -> BoundedLogWriter[StreamResponse]:
        """The run's log, its text chunks merged past ``max_log_events``."""
        return BoundedLogWriter(
            writer,
            max_entries=self._max_log_events,
            encode=lambda event: encode_json(event_json(event)).decode(),
            is_delta=is_text_chunk,
            merge=merged_chunks,
        )

    async def _settle_orphan(self, run_id: str) -> None:
        """Record a run whose process died as failed, and end its log."""
        task_id, _, number = run_id.rpartition("/")
        record = await self._tasks.record(task_id, None)
        if record is None or str(record.run) != number or not record.running:
            return
        task, _ = await self._tasks.current(record)
        writer = await self._tasks.logs.writer(run_id)
        if writer is None:
            return
        events = _Events(task, self._bounded(writer), self._push)
        if task.status.state not in ENDED:
            await events.emit(status_event(task, TaskState.TASK_STATE_FAILED, _LOST))
        await self._finish(record, events, ())


class _Events:
    """A run's event sink: its log, its copy of the task, push delivery of status updates.

    The run's admission, when it holds one, is given back before the status that ends
    the run is logged: a client that has seen its task end may start its next run at once.
    """

    def __init__(
        self,
        task: Task,
        writer: BoundedLogWriter[StreamResponse],
        push: PushDelivery,
        admission: RunAdmission | None = None,
    ) -> None:
        self.task = Task()
        self.task.CopyFrom(task)
        self._writer = writer
        self._push = push
        self._admission = admission

    async def emit(self, event: StreamResponse) -> None:
        if self._admission is not None and _ends_run(event):
            await self._admission.release()
        apply_event(self.task, event)
        await self._writer.append(event)
        if event.HasField("status_update"):
            self._push.notify(self.task.id, event)

    async def close(self) -> None:
        await self._writer.close()


def _ends_run(event: StreamResponse) -> bool:
    """Whether ``event`` is a status the run stops at (ended, or waiting for the client)."""
    return event.HasField("status_update") and (
        event.status_update.status.state in ENDED | INTERRUPTED
    )


def _input_required(task: Task, pending: Sequence[PendingRequest]) -> StreamResponse:
    """The input-required status: a sentence and the requests as a data part."""
    names = ", ".join(f"{request.name} ({request.id})" for request in pending)
    event = status_event(
        task,
        TaskState.TASK_STATE_INPUT_REQUIRED,
        f"The workflow waits for input: {names}. Answer in a message on this task.",
    )
    requests = [
        {"id": request.id, "type": request.name, "data": request.data} for request in pending
    ]
    event.status_update.status.message.parts.append(data_part({"requests": requests}))
    return event

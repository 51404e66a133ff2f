"""The A2A methods over the host: send, stream, get, list, cancel, subscribe, push configs.

Each method takes the SDK's request type and a ``ServerCallContext`` whose state names
the caller (``partition``, ``principal``, ``isolation_keys``); both transports call
them. A task id from another partition, or unknown, is the spec's task-not-found error.

Continuity: ``contextId`` is the conversation (the host's session, keyed by the
caller's partition and the context id); a message with a ``taskId`` continues that
task when it waits for input (its answers go to the workflow's pending requests) or
for more permissions, and is refused while the task runs or once it ended.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any, cast
from urllib.parse import quote

from a2a.server.context import ServerCallContext
from a2a.types.a2a_pb2 import (
    AgentCard,
    CancelTaskRequest,
    DeleteTaskPushNotificationConfigRequest,
    GetTaskPushNotificationConfigRequest,
    GetTaskRequest,
    ListTaskPushNotificationConfigsRequest,
    ListTaskPushNotificationConfigsResponse,
    ListTasksRequest,
    ListTasksResponse,
    SendMessageRequest,
    StreamResponse,
    SubscribeToTaskRequest,
    Task,
    TaskPushNotificationConfig,
    TaskState,
    TaskStatus,
)
from a2a.types.a2a_pb2 import Message as A2AMessage
from a2a.utils.errors import (
    ExtendedAgentCardNotConfiguredError,
    InvalidParamsError,
    TaskNotCancelableError,
    UnsupportedOperationError,
)
from a2a.utils.task import apply_history_length, validate_history_length, validate_page_size
from agent_framework import Message
from agent_framework_hosting import (
    ISOLATION_KEYS_ATTRIBUTE,
    ChannelContext,
    ChannelIdentity,
    ChannelRequest,
    ChannelSession,
    IsolationKeys,
    Principal,
    RunAdmission,
    TooManyRuns,
    WorkflowInputError,
)
from google.protobuf.json_format import MessageToDict
from google.protobuf.timestamp_pb2 import Timestamp

from ._errors import not_found, run_limit_reached
from ._parse import check_output_modes, input_message, request_answers
from ._push import PushConfigs, PushDelivery
from ._task_runs import ENDED, INTERRUPTED, TaskRuns
from ._tasks import PARTITION, HostTaskStore, TaskRecord

__all__ = ["A2AService", "a2a_isolation_key", "caller_context"]

_STOPS = frozenset(TaskState.Name(state) for state in ENDED | INTERRUPTED)

StreamItem = dict[str, Any] | None
"""A stream event as A2A JSON (a ``StreamResponse``), or ``None`` for a keep-alive."""


def a2a_isolation_key(partition: str, context_id: str) -> str:
    """The session key of an A2A context in a caller's partition (``""``: an open host)."""
    return f"a2a:{quote(partition, safe='')}:{quote(context_id, safe='')}"


def caller_context(
    partition: str, principal: Principal | None, keys: IsolationKeys
) -> ServerCallContext:
    """The call context naming a caller for the methods and the stores."""
    return ServerCallContext(
        state={PARTITION: partition, "principal": principal, "isolation_keys": keys}
    )


class A2AService:
    """The A2A methods of one channel on one host."""

    def __init__(
        self,
        context: ChannelContext,
        channel_name: str,
        tasks: HostTaskStore,
        runs: TaskRuns,
        configs: PushConfigs,
        push: PushDelivery,
        *,
        extended_card: Callable[[ServerCallContext], Awaitable[AgentCard]] | None,
        keepalive_seconds: float,
    ) -> None:
        self._context = context
        self._channel_name = channel_name
        self._tasks = tasks
        self._runs = runs
        self._configs = configs
        self._push = push
        self._extended_card = extended_card
        self._keepalive = keepalive_seconds

    async def send(self, params: SendMessageRequest, call: ServerCallContext) -> Task:
        """``SendMessage``: start or continue a task; its state once it ends or waits."""
        record = await self._begin(params, call, stream=False)
        if not params.configuration.return_immediately:
            async for _ in self._follow(record, after=-1):
                pass
        return apply_history_length(await self._now(record), params.configuration)

    async def stream(
        self, params: SendMessageRequest, call: ServerCallContext
    ) -> AsyncIterator[StreamItem]:
        """``SendStreamingMessage``: the task, then its events until it ends or waits.

        Raises (before the first event):
            A2AError: The message cannot start or continue a task.

        """
        record = await self._begin(params, call, stream=True)
        return self._follow(record, after=-1)

    async def get_task(self, params: GetTaskRequest, call: ServerCallContext) -> Task:
        """``GetTask``: the task as it is now."""
        validate_history_length(params)
        record = await self._record(params.id, call)
        return apply_history_length(await self._now(record), params)

    async def list_tasks(
        self, params: ListTasksRequest, call: ServerCallContext
    ) -> ListTasksResponse:
        """``ListTasks``: the caller's tasks, newest first, filtered and paged."""
        validate_history_length(params)
        if params.HasField("page_size"):
            validate_page_size(params.page_size)
        for record in await self._tasks.records(_partition(call)):
            if record.running:
                await self._runs.settle_if_orphaned(record)
        page = await self._tasks.list(params, call)
        for task in page.tasks:
            if not params.include_artifacts:
                task.ClearField("artifacts")
            task.CopyFrom(apply_history_length(task, params))
        return page

    async def cancel(self, params: CancelTaskRequest, call: ServerCallContext) -> Task:
        """``CancelTask``: stop the task's run wherever it runs; the task as it ended."""
        record = await self._record(params.id, call)
        if record.task.status.state in ENDED:
            raise TaskNotCancelableError(
                f"Task {params.id!r} has ended ({TaskState.Name(record.task.status.state)})."
            )
        if record.running:
            await self._runs.runs.cancel(record.run_id)
        else:
            await self._runs.end(record, TaskState.TASK_STATE_CANCELED, "Canceled.")
        return await self._now(await self._record(params.id, call))

    async def subscribe(
        self, params: SubscribeToTaskRequest, call: ServerCallContext
    ) -> AsyncIterator[StreamItem]:
        """``SubscribeToTask``: the task as it is now, then its events after that point.

        Raises (before the first event):
            A2AError: The task is not the caller's, or it has ended.

        """
        record = await self._record(params.id, call)
        if record.task.status.state in ENDED:
            raise UnsupportedOperationError(
                f"Task {params.id!r} has ended "
                f"({TaskState.Name(record.task.status.state)}); read it with GetTask."
            )
        task, position = await self._tasks.current(record)
        snapshot = MessageToDict(StreamResponse(task=task))
        if not record.running or task.status.state in ENDED | INTERRUPTED:
            return _once(snapshot)
        return _then(snapshot, self._follow(record, after=position))

    async def set_push_config(
        self, params: TaskPushNotificationConfig, call: ServerCallContext
    ) -> TaskPushNotificationConfig:
        """``CreateTaskPushNotificationConfig``: a webhook for the task's status changes."""
        await self._record(params.task_id, call)
        await self._push.check_url(params.url)
        return await self._configs.set_info(params.task_id, params, call)

    async def get_push_config(
        self, params: GetTaskPushNotificationConfigRequest, call: ServerCallContext
    ) -> TaskPushNotificationConfig:
        """``GetTaskPushNotificationConfig``: one webhook config of the task."""
        await self._record(params.task_id, call)
        for config in await self._configs.get_info(params.task_id, call):
            if config.id == params.id:
                return config
        raise InvalidParamsError(
            f"Task {params.task_id!r} has no push notification config {params.id!r}."
        )

    async def list_push_configs(
        self, params: ListTaskPushNotificationConfigsRequest, call: ServerCallContext
    ) -> ListTaskPushNotificationConfigsResponse:
        """``ListTaskPushNotificationConfigs``: the task's webhook configs."""
        await self._record(params.task_id, call)
        configs = await self._configs.get_info(params.task_id, call)
        return ListTaskPushNotificationConfigsResponse(configs=configs)

    async def delete_push_config(
        self, params: DeleteTaskPushNotificationConfigRequest, call: ServerCallContext
    ) -> None:
        """``DeleteTaskPushNotificationConfig``: remove one webhook config of the task."""
        await self._record(params.task_id, call)
        await self._configs.delete_info(params.task_id, call, params.id)

    async def extended_card(self, call: ServerCallContext) -> AgentCard:
        """``GetExtendedAgentCard``: the card for an authenticated caller."""
        if self._extended_card is None:
            raise ExtendedAgentCardNotConfiguredError(
                "This agent has no authenticated extended card: it serves callers without "
                "authentication."
            )
        return await self._extended_card(call)

    async def _begin(
        self, params: SendMessageRequest, call: ServerCallContext, *, stream: bool
    ) -> TaskRecord:
        """Check the message, admit its run, store the task it starts or continues, start it.

        Raises:
            A2AError: The message cannot start or continue a task, or the caller has as
                many runs going as it may (``RunLimitReached``).

        """
        message = params.message
        validate_history_length(params.configuration)
        check_output_modes(params.configuration)
        if params.configuration.HasField("task_push_notification_config"):
            await self._push.check_url(params.configuration.task_push_notification_config.url)
        continued: TaskRecord | None = None
        if message.task_id:
            continued = await self._continuable(message, call)
            context_id = continued.task.context_id
            task_id = continued.task.id
            pending = continued.pending
            turn = request_answers(message, pending) if pending else input_message(message)
        else:
            context_id = message.context_id or uuid.uuid4().hex
            task_id = uuid.uuid4().hex
            turn = input_message(message)
        run = self._run_request(turn, call, context_id, task_id, stream=stream)
        # An answer that does not wait for its task leaves a background run behind.
        admission = await self._admitted(
            run, background=not stream and params.configuration.return_immediately
        )
        try:
            record = await self._stored(params, call, run, continued, task_id, context_id)
        except BaseException:
            await admission.release()
            raise
        await self._runs.start(
            record, run, admission, stream=stream, protocol_request=MessageToDict(params)
        )
        return record

    async def _admitted(self, run: ChannelRequest, *, background: bool) -> RunAdmission:
        """The run's place within its caller's run limits, taken before anything is stored.

        Raises:
            RunLimitReached: The caller has as many runs of this kind going as it may.

        """
        try:
            return await self._context.admit(run.principal, background=background).acquire()
        except TooManyRuns as error:
            raise run_limit_reached(error) from None

    async def _stored(
        self,
        params: SendMessageRequest,
        call: ServerCallContext,
        run: ChannelRequest,
        continued: TaskRecord | None,
        task_id: str,
        context_id: str,
    ) -> TaskRecord:
        """The task the run starts or continues, checked against its conversation and stored."""
        try:
            await self._context.check_input(run)
        except WorkflowInputError as error:
            raise InvalidParamsError(str(error)) from None
        said = A2AMessage()
        said.CopyFrom(params.message)
        said.task_id, said.context_id = task_id, context_id
        if continued is None:
            record = TaskRecord(
                task=_new_task(task_id, context_id, said), partition=_partition(call)
            )
            record = replace(record, running=True)
            await self._tasks.create(record)
        else:
            record = await self._continue(continued, said, call)
        if params.configuration.HasField("task_push_notification_config"):
            push = params.configuration.task_push_notification_config
            await self._configs.set_info(task_id, push, call)
        return record

    async def _continuable(self, message: A2AMessage, call: ServerCallContext) -> TaskRecord:
        record = await self._record(message.task_id, call)
        if message.context_id and message.context_id != record.task.context_id:
            raise InvalidParamsError(
                f"Task {message.task_id!r} belongs to context {record.task.context_id!r}, "
                f"not {message.context_id!r}."
            )
        state = record.task.status.state
        if state in ENDED:
            raise UnsupportedOperationError(
                f"Task {message.task_id!r} has ended ({TaskState.Name(state)}); send the "
                "message without a taskId to start a new task in its context."
            )
        if record.running:
            raise UnsupportedOperationError(
                f"Task {message.task_id!r} is still running; wait for it to ask for input."
            )
        return record

    async def _continue(
        self, record: TaskRecord, said: A2AMessage, call: ServerCallContext
    ) -> TaskRecord:
        """Put the task's next run in its record, if no other message came first."""

        def continued(current: TaskRecord) -> TaskRecord | None:
            if current.running or current.run != record.run:
                return None
            task = Task()
            task.CopyFrom(current.task)
            if task.status.HasField("message"):
                task.history.append(task.status.message)
                task.status.ClearField("message")
            task.history.append(said)
            return replace(current, task=task, run=current.run + 1, running=True, pending=())

        changed = await self._tasks.change(record.task.id, _partition(call), continued)
        if changed is None:
            raise UnsupportedOperationError(
                f"Task {record.task.id!r} took another message first; read it with GetTask."
            )
        return changed

    def _run_request(
        self, turn: Message, call: ServerCallContext, context_id: str, task_id: str, *, stream: bool
    ) -> ChannelRequest:
        principal = cast("Principal | None", call.state.get("principal"))
        keys = cast("IsolationKeys", call.state.get("isolation_keys") or IsolationKeys())
        native = principal.subject if principal is not None else context_id
        return ChannelRequest(
            channel=self._channel_name,
            operation="message.create",
            input=[turn],
            session=ChannelSession(isolation_key=a2a_isolation_key(_partition(call), context_id)),
            stream=stream,
            identity=ChannelIdentity(channel=self._channel_name, native_id=native),
            principal=principal,
            attributes={ISOLATION_KEYS_ATTRIBUTE: keys},
            metadata={"task_id": task_id, "context_id": context_id},
        )

    async def _record(self, task_id: str, call: ServerCallContext) -> TaskRecord:
        """The caller's task, its run settled if its process died.

        Raises:
            TaskNotFoundError: No task ``task_id`` in the caller's partition.

        """
        record = await self._tasks.record(task_id, _partition(call))
        if record is None:
            raise not_found(task_id)
        if record.running and await self._runs.settle_if_orphaned(record):
            record = await self._tasks.record(task_id, _partition(call)) or record
        return record

    async def _now(self, record: TaskRecord) -> Task:
        fresh = await self._tasks.record(record.task.id, record.partition) or record
        return (await self._tasks.current(fresh))[0]

    async def _follow(self, record: TaskRecord, *, after: int) -> AsyncIterator[StreamItem]:
        """The run's events after ``after``, until the task ends or waits for input."""
        entries = self._tasks.logs.follow(
            record.run_id,
            record.partition,
            after=after,
            keepalive=self._keepalive,
            on_silence=lambda: self._runs.settle_if_orphaned(record),
        )
        async for entry in entries:
            if entry is None:
                yield None
                continue
            event = cast("dict[str, Any]", json.loads(entry))
            yield event
            if _stops(event):
                return


def _stops(event: dict[str, Any]) -> bool:
    update: Any = event.get("statusUpdate")
    if not isinstance(update, dict):
        return False
    status: Any = cast("dict[str, Any]", update).get("status")
    return isinstance(status, dict) and cast("dict[str, Any]", status).get("state") in _STOPS


def _new_task(task_id: str, context_id: str, said: A2AMessage) -> Task:
    stamp = Timestamp()
    stamp.GetCurrentTime()
    return Task(
        id=task_id,
        context_id=context_id,
        status=TaskStatus(state=TaskState.TASK_STATE_SUBMITTED, timestamp=stamp),
        history=[said],
    )


def _partition(call: ServerCallContext) -> str:
    return str(call.state.get(PARTITION, ""))


async def _once(item: StreamItem) -> AsyncIterator[StreamItem]:
    yield item


async def _then(first: StreamItem, rest: AsyncIterator[StreamItem]) -> AsyncIterator[StreamItem]:
    yield first
    async for item in rest:
        yield item

"""The A2A task store on the host's state store: tasks, their runs' events, their partition.

A task is a record ``a2a:task:<id>``: the task as of its latest settled state (the
SDK's ``Task``, as JSON), the partition of the caller who created it, the number of its
current run, whether that run goes on, and the workflow requests it waits on. A run's
events (``StreamResponse`` objects as JSON) go to a run log (``RunLog``), so a task read
while it runs is its record with the log's events applied, from any process, and a
subscriber gets exactly that snapshot followed by the events after it. Each partition
keeps the ids of its tasks (``a2a:tasks:<partition>``) for ``tasks/list``.

A task in another partition reads as missing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, cast
from urllib.parse import quote

from a2a.server.context import ServerCallContext
from a2a.server.tasks.task_manager import append_artifact_to_task
from a2a.server.tasks.task_store import TaskStore
from a2a.types.a2a_pb2 import ListTasksRequest, ListTasksResponse, StreamResponse, Task
from a2a.utils.constants import DEFAULT_LIST_TASKS_PAGE_SIZE
from a2a.utils.errors import InvalidParamsError
from a2a.utils.task import ListTasksCursor, decode_list_tasks_cursor, encode_list_tasks_cursor
from agent_framework_hosting import RunLog, StateStore, update_state
from google.protobuf.json_format import MessageToDict, ParseDict

__all__ = [
    "PARTITION",
    "HostTaskStore",
    "PendingRequest",
    "TaskRecord",
    "apply_event",
    "event_json",
    "task_json",
]

PARTITION = "partition"
"""``ServerCallContext.state`` key of the caller's partition (``""`` on an open host)."""


@dataclass(frozen=True, slots=True)
class PendingRequest:
    """A workflow request a task waits on: its id, its type's name, its data."""

    id: str
    name: str
    data: Any


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """What the store keeps of a task."""

    task: Task
    partition: str
    run: int = 0
    running: bool = False
    pending: tuple[PendingRequest, ...] = ()
    updated: float = field(default_factory=time.time)

    @property
    def run_id(self) -> str:
        """The id of the task's current run (and of its event log)."""
        return f"{self.task.id}/{self.run}"

    def to_json(self) -> dict[str, Any]:
        """The record as the store keeps it."""
        return {
            "task": task_json(self.task),
            "partition": self.partition,
            "run": self.run,
            "running": self.running,
            "pending": [
                {"id": request.id, "name": request.name, "data": request.data}
                for request in self.pending
            ],
            "updated": self.updated,
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> TaskRecord:
        """The record the store kept."""
        pending = cast("list[Mapping[str, Any]]", value.get("pending") or [])
        return cls(
            task=ParseDict(value["task"], Task()),
            partition=str(value["partition"]),
            run=int(value.get("run", 0)),
            running=bool(value.get("running")),
            pending=tuple(
                PendingRequest(str(item["id"]), str(item["name"]), item.get("data"))
                for item in pending
            ),
            updated=float(value.get("updated", 0.0)),
        )


def task_json(task: Task) -> dict[str, Any]:
    """A task as A2A JSON (camelCase field names)."""
    return MessageToDict(task)


def event_json(event: StreamResponse) -> dict[str, Any]:
    """A stream event as A2A JSON."""
    return MessageToDict(event)


def apply_event(task: Task, event: StreamResponse) -> None:
    """Change ``task`` as ``event`` says, as a client following the stream would.

    A status update moves the previous status message into the history; an artifact
    update adds, replaces or appends to an artifact (the SDK's rule); a task replaces it.
    """
    kind = event.WhichOneof("payload")
    if kind == "task":
        task.CopyFrom(event.task)
    elif kind == "status_update":
        if task.status.HasField("message"):
            task.history.append(task.status.message)
        task.status.CopyFrom(event.status_update.status)
    elif kind == "artifact_update":
        append_artifact_to_task(task, event.artifact_update)


class HostTaskStore(TaskStore):
    """The SDK's task store contract on the host's :class:`StateStore`, partitioned.

    The ``TaskStore`` methods take the partition from the call context
    (``context.state["partition"]``); the record methods take it as an argument.
    """

    def __init__(self, store: StateStore, *, ttl: float | None = None) -> None:
        self._store = store
        self.ttl = ttl
        """How long a task, and each of its runs' logs once complete, is kept."""
        self.logs = RunLog(store, "a2a", ttl=ttl)

    async def record(self, task_id: str, partition: str | None) -> TaskRecord | None:
        """The task's record, or ``None`` when it is not a task of ``partition``.

        ``partition=None`` finds the task in any partition (for settling its run).
        """
        record = _record_of(await self._store.get(_task_key(task_id)))
        if record is None:
            return None
        return record if partition is None or record.partition == partition else None

    async def current(self, record: TaskRecord) -> tuple[Task, int]:
        """The task as it is now (its record with its running run's events) and the log position."""
        task = Task()
        task.CopyFrom(record.task)
        if not record.running:
            return task, -1
        entries = await self.logs.entries(record.run_id)
        for entry in entries:
            apply_event(task, ParseDict(_decoded(entry), StreamResponse()))
        return task, len(entries) - 1

    async def create(self, record: TaskRecord) -> None:
        """Store a new task and list it in its partition."""
        await self._store.set(_task_key(record.task.id), record.to_json(), ttl=self.ttl)
        task_id = record.task.id

        def listed(ids: Any) -> list[str]:
            known = _ids(ids)
            return known if task_id in known else [*known, task_id]

        await update_state(self._store, _index_key(record.partition), listed)

    async def change(
        self, task_id: str, partition: str, change: Callable[[TaskRecord], TaskRecord | None]
    ) -> TaskRecord | None:
        """Apply ``change`` to the record atomically; the new record (``None``: unchanged).

        ``change`` returns the new record, or ``None`` to leave it; it runs again when
        another writer came first. ``None`` too when the task is not in ``partition``.
        """
        outcome: list[TaskRecord | None] = [None]

        def apply(value: Any) -> Any:
            outcome[0] = None
            record = _record_of(value)
            if record is None or record.partition != partition:
                return value
            changed = change(record)
            if changed is None:
                return value
            outcome[0] = replace(changed, updated=time.time())
            return outcome[0].to_json()

        await update_state(self._store, _task_key(task_id), apply, ttl=self.ttl)
        return outcome[0]

    async def records(self, partition: str) -> list[TaskRecord]:
        """Every task of ``partition``."""
        found: list[TaskRecord] = []
        for task_id in _ids(await self._store.get(_index_key(partition))):
            record = await self.record(task_id, partition)
            if record is not None:
                found.append(record)
        return found

    async def save(self, task: Task, context: ServerCallContext) -> None:
        """Store ``task`` in the caller's partition (a new one, or its latest state)."""
        partition = _partition(context)
        if await self.record(task.id, partition) is None:
            await self.create(TaskRecord(task=task, partition=partition))
            return
        await self.change(task.id, partition, lambda record: replace(record, task=task))

    async def get(self, task_id: str, context: ServerCallContext) -> Task | None:
        """The task as it is now, or ``None`` when it is not the caller's."""
        record = await self.record(task_id, _partition(context))
        return None if record is None else (await self.current(record))[0]

    async def list(self, params: ListTasksRequest, context: ServerCallContext) -> ListTasksResponse:
        """The caller's tasks, filtered, newest status first, a page at a time.

        Raises:
            InvalidParamsError: The page token is not one this store made.

        """
        tasks = [
            (await self.current(record))[0] for record in await self.records(_partition(context))
        ]
        tasks = [task for task in tasks if _matches(task, params)]
        tasks.sort(key=_sort_key, reverse=True)
        start = 0
        if params.page_token:
            cursor = decode_list_tasks_cursor(params.page_token)
            if cursor is None:
                raise InvalidParamsError("The page token is not one this agent made.")
            after = cursor.sort_key()
            start = next((i for i, task in enumerate(tasks) if _sort_key(task) < after), len(tasks))
        size = params.page_size or DEFAULT_LIST_TASKS_PAGE_SIZE
        page = tasks[start : start + size]
        more = start + size < len(tasks)
        return ListTasksResponse(
            tasks=page,
            next_page_token=encode_list_tasks_cursor(_cursor(page[-1])) if more and page else "",
            page_size=size,
            total_size=len(tasks),
        )

    async def delete(self, task_id: str, context: ServerCallContext) -> None:
        """Remove the task if it is the caller's."""
        record = await self.record(task_id, _partition(context))
        if record is None:
            return
        await self._store.delete(_task_key(task_id))
        await self.logs.delete(record.run_id, record.partition)

        def unlisted(ids: Any) -> Any:
            known = _ids(ids)
            if task_id not in known:
                return ids
            return [other for other in known if other != task_id]

        await update_state(self._store, _index_key(record.partition), unlisted)


def _record_of(value: Any) -> TaskRecord | None:
    if not isinstance(value, Mapping):
        return None
    return TaskRecord.from_json(cast("Mapping[str, Any]", value))


def _ids(value: Any) -> list[str]:
    return list(cast("list[str]", value)) if isinstance(value, list) else []


def _decoded(entry: str) -> dict[str, Any]:
    return cast("dict[str, Any]", json.loads(entry))


def _matches(task: Task, params: ListTasksRequest) -> bool:
    if params.context_id and task.context_id != params.context_id:
        return False
    if params.status and task.status.state != params.status:
        return False
    if params.HasField("status_timestamp_after"):
        after = params.status_timestamp_after.ToNanoseconds()
        return task.status.HasField("timestamp") and task.status.timestamp.ToNanoseconds() >= after
    return True


def _sort_key(task: Task) -> tuple[bool, int, str]:
    stamped = task.status.HasField("timestamp")
    return (stamped, task.status.timestamp.ToNanoseconds() if stamped else 0, task.id)


def _cursor(task: Task) -> ListTasksCursor:
    stamped, nanoseconds, task_id = _sort_key(task)
    return ListTasksCursor(timestamp_ns=nanoseconds if stamped else None, task_id=task_id)


def _partition(context: ServerCallContext) -> str:
    return str(context.state.get(PARTITION, ""))


def _task_key(task_id: str) -> str:
    return f"a2a:task:{task_id}"


def _index_key(partition: str) -> str:
    return f"a2a:tasks:{quote(partition, safe='')}"

"""AG-UI threads in the host's state store: each caller's conversations, their history and runs.

A thread is the conversation a ``threadId`` names inside the caller's partition (the
principal and trusted isolation keys, ``partition_key``): the same id in another
partition is another thread, and a foreign id reads as missing. The record keeps the
thread's messages in AG-UI's shape (what a page shows after a reload), its shared state,
the runs in progress with the messages they added, the interrupts its last run left
open, and the runs whose logs may still be kept (deleted with the thread; a run that
ended more than ``run_ttl`` seconds ago is dropped, its log expired). Each partition has
an index of its threads, newest first.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, cast
from urllib.parse import quote

from agent_framework_hosting import StateStore, update_state

__all__ = ["Threads", "isolation_key", "run_key", "summary", "thread_view"]

_TITLE_CHARS = 80


def _part(value: str | None) -> str:
    return quote(value or "", safe="")


def isolation_key(thread_id: str, partition: str | None = None) -> str:
    """The session key of ``thread_id`` in ``partition`` (``None``: an open host's callers).

    Both parts are percent-encoded around ``|``, so two different pairs never share a key.
    """
    return f"ag-ui|{_part(partition)}|{_part(thread_id)}"


def run_key(run_id: str, partition: str | None) -> str:
    """Where ``run_id``'s run and event log live: the same id in two partitions is two runs."""
    return f"{_part(partition)}|{_part(run_id)}"


class Threads:
    """The threads of every partition: read, listed, and written as runs begin and end."""

    def __init__(
        self, store: StateStore, *, max_listed: int = 100, run_ttl: float | None = None
    ) -> None:
        self._store = store
        self._max_listed = max_listed
        self._run_ttl = run_ttl

    async def get(self, partition: str | None, thread_id: str) -> dict[str, Any] | None:
        """The record of ``thread_id`` in ``partition``, or ``None``."""
        record = await self._store.get(self._key(partition, thread_id))
        return cast("dict[str, Any]", record) if isinstance(record, dict) else None

    async def seen(self, partition: str | None, thread_id: str) -> set[str]:
        """The ids of every message the thread holds or a run in progress added."""
        record = await self.get(partition, thread_id) or {}
        ids = {message["id"] for message in record.get("messages", [])}
        for run in record.get("runs", {}).values():
            ids.update(message["id"] for message in run["input"])
        return ids

    async def listed(self, partition: str | None) -> list[dict[str, Any]]:
        """The partition's threads, newest first: id, title, last change, run in progress."""
        ids = cast("list[str]", await self._store.get(self._index(partition)) or [])
        listed: list[dict[str, Any]] = []
        for thread_id in ids:
            record = await self.get(partition, thread_id)
            if record is not None:
                listed.append(summary(record))
        return listed

    async def begin(
        self,
        partition: str | None,
        thread_id: str,
        run_id: str,
        added: Sequence[Mapping[str, Any]],
        state: Any,
    ) -> None:
        """Record that ``run_id`` runs on the thread with the messages it ``added``."""
        now = time.time()

        def change(given: dict[str, Any] | None) -> dict[str, Any]:
            record = _copy(given) or {
                "threadId": thread_id,
                "created": now,
                "messages": [],
                "runs": {},
                "logged": {},
            }
            record["runs"][run_id] = {"input": list(added), "started": now}
            record["logged"] = {
                run: ended
                for run, ended in record["logged"].items()
                if ended is None or self._run_ttl is None or ended > now - self._run_ttl
            }
            record["logged"][run_id] = None  # its log is kept until it ends, then expires
            if not record.get("title"):
                record["title"] = _title(added)
            if state is not None:
                record["state"] = state
            record["interrupts"] = []
            record["updated"] = now
            return record

        await update_state(self._store, self._key(partition, thread_id), change)
        await self._list_first(partition, thread_id)

    async def end(
        self,
        partition: str | None,
        thread_id: str,
        run_id: str,
        output: Sequence[Mapping[str, Any]] = (),
        *,
        state: Any = None,
        interrupts: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        """Move ``run_id``'s input, then its ``output``, into the thread's messages.

        A run that failed or was cancelled ends with no output: what the caller sent
        stays in the thread, as it does in the client's.
        """

        def change(given: dict[str, Any] | None) -> dict[str, Any] | None:
            record = _copy(given)
            if record is None or run_id not in record["runs"]:
                return given  # nothing to write
            run = record["runs"].pop(run_id)
            record["logged"][run_id] = time.time()
            record["messages"].extend([*run["input"], *output])
            if state is not None:
                record["state"] = state
            record["interrupts"] = list(interrupts)
            record["updated"] = time.time()
            return record

        await update_state(self._store, self._key(partition, thread_id), change)

    async def delete(self, partition: str | None, thread_id: str) -> list[str] | None:
        """Forget the thread: the ids of its runs whose logs may be kept (``None``: no thread)."""
        record = await self.get(partition, thread_id)
        if record is None:
            return None
        await self._store.delete(self._key(partition, thread_id))

        def unlisted(ids: list[str] | None) -> list[str]:
            return [other for other in ids or [] if other != thread_id]

        await update_state(self._store, self._index(partition), unlisted)
        return list(record.get("logged", {}))

    async def _list_first(self, partition: str | None, thread_id: str) -> None:
        def change(ids: list[str] | None) -> list[str]:
            ids = ids or []
            if ids[:1] == [thread_id]:
                return ids
            return [thread_id, *(other for other in ids if other != thread_id)][: self._max_listed]

        await update_state(self._store, self._index(partition), change)

    def _key(self, partition: str | None, thread_id: str) -> str:
        return f"ag-ui:thread:{_part(partition)}|{_part(thread_id)}"

    def _index(self, partition: str | None) -> str:
        return f"ag-ui:threads:{_part(partition)}"


def _copy(record: dict[str, Any] | None) -> dict[str, Any] | None:
    """A copy to change: ``update_state`` writes only a value that is not the one it gave."""
    if record is None:
        return None
    return {
        **record,
        "messages": list(record["messages"]),
        "runs": dict(record["runs"]),
        "logged": dict(record.get("logged", {})),
    }


def summary(record: Mapping[str, Any]) -> dict[str, Any]:
    """What a list of threads shows of one."""
    return {
        "threadId": record["threadId"],
        "title": record.get("title", ""),
        "updatedAt": _millis(record.get("updated", 0.0)),
        "runIds": list(record.get("runs", {})),
    }


def thread_view(record: Mapping[str, Any]) -> dict[str, Any]:
    """A thread as its endpoint answers: its summary, messages, state and open interrupts."""
    return {
        **summary(record),
        "messages": record.get("messages", []),
        "state": record.get("state", {}),
        "interrupts": record.get("interrupts", []),
    }


def _millis(seconds: float) -> int:
    return int(seconds * 1000)


def _title(added: Sequence[Mapping[str, Any]]) -> str:
    """The first line of the first user text, shortened: how a thread is listed."""
    for message in added:
        if message.get("role") != "user":
            continue
        content = message.get("content")
        texts = [content] if isinstance(content, str) else []
        if isinstance(content, list):
            parts = cast("list[Mapping[str, Any]]", content)
            texts = [str(part.get("text", "")) for part in parts if part.get("type") == "text"]
        text = " ".join(" ".join(texts).split())
        if text:
            return text if len(text) <= _TITLE_CHARS else text[: _TITLE_CHARS - 1] + "…"
        return "Image"
    return ""

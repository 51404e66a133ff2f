"""AG-UI runs that outlive their request: run in the background, logged, followed from anywhere.

Every run starts as a core ``BackgroundRuns`` run that writes its events to a core
``RunLog``; the request that started it follows the log like any reconnect does, so a
client that goes away loses nothing: the run goes on (or is cancelled, as the channel is
configured), and ``GET {path}/runs/{runId}`` with ``Last-Event-ID`` replays what it missed
and follows the rest, from any process sharing the state store. A run whose process died
is settled once, by whoever looks at it next: its log ends with ``RUN_ERROR``. A run
holds its caller's admission (``ChannelContext.admit``) until its last event is logged,
or until it ends without one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from ag_ui.core import BaseEvent, RunAgentInput, RunErrorEvent
from ag_ui.core import Message as AGUIMessage
from agent_framework_hosting import (
    SSE_KEEPALIVE,
    BackgroundRuns,
    BoundedLogWriter,
    ChannelContext,
    ChannelRequest,
    ConversationBusy,
    RunAdmission,
    RunLog,
    WorkflowInputError,
)

from ._errors import AGENT_FAILED, INTERRUPTED, AGUIError
from ._render import RunEvents, encoded, is_delta, is_terminal, merged_deltas, wire_dict
from ._shared_state import StateTracker
from ._threads import Threads

__all__ = ["Run", "Runs"]

logger = logging.getLogger("agent_framework.hosting.ag_ui")


@dataclass(frozen=True)
class Run:
    """A run ready to start: where it lives, what it adds, and the request to run."""

    key: str
    """Its key in the store (``run_key``): the run id inside the caller's partition."""
    partition: str | None
    run_input: RunAgentInput
    added: Sequence[AGUIMessage]
    state: dict[str, Any]
    request: ChannelRequest


class Runs:
    """One host's AG-UI runs: started, followed, cancelled, settled when orphaned."""

    def __init__(
        self,
        context: ChannelContext,
        threads: Threads,
        *,
        keepalive_seconds: float,
        lease_seconds: float,
        max_log_events: int,
        ttl: float | None,
    ) -> None:
        self._context = context
        self._threads = threads
        self._store = context.state_store
        self._keepalive = keepalive_seconds
        self._max_log_events = max_log_events
        self._ttl = ttl
        self._log = RunLog(self._store, "ag-ui", ttl=ttl)
        self._runs = BackgroundRuns(
            self._store, "ag-ui", settle=self._settle, lease_seconds=lease_seconds, ended_ttl=ttl
        )
        self._cancelling: set[asyncio.Task[Any]] = set()

    async def start(self, run: Run, admission: RunAdmission) -> None:
        """Claim the run's id, record it in its thread, and run it in the background.

        The run holds ``admission`` (its caller's, taken) and gives it back as it ends,
        however it ends; if it cannot start, at once.

        Raises:
            AGUIError: The target's conversation cannot take the input (400), or the
                caller already has a run with this id (409).

        """
        try:
            writer, events = await self._begin(run)
        except BaseException:
            await admission.release()
            raise
        work = self._work(run, events, writer, admission)
        await self._runs.start(run.key, work, on_end=admission.release)

    async def _begin(self, run: Run) -> tuple[_Log, RunEvents]:
        """Check its input, claim its id, open its log with its start, record it in its thread."""
        try:
            await self._context.check_input(run.request)
        except WorkflowInputError as error:
            raise AGUIError(str(error)) from None
        claim = {
            "partition": run.partition,
            "threadId": run.run_input.thread_id,
            "runId": run.run_input.run_id,
        }
        if await self._store.write(self._info(run.key), claim, version=None) is None:
            raise AGUIError(
                f"Run {run.run_input.run_id!r} already exists: give each run a new 'runId'.",
                code="run_exists",
                status=409,
            )
        writer = BoundedLogWriter(
            await self._log.open(run.key, run.partition),
            max_entries=self._max_log_events,
            encode=encoded,
            is_delta=is_delta,
            merge=merged_deltas,
        )
        events = RunEvents(
            run.run_input.thread_id,
            run.run_input.run_id,
            calls_are_requests=not self._context.target_takes_options,
        )
        added = [wire_dict(message) for message in run.added]
        thread = run.run_input.thread_id
        await self._threads.begin(run.partition, thread, run.run_input.run_id, added, run.state)
        await _append(writer, events.started(run.added, run.state))
        return writer, events

    async def exists(self, key: str, partition: str | None) -> bool:
        """Whether ``key`` names a run (with its log) in ``partition``."""
        return await self._log.exists(key, partition)

    async def follow(self, key: str, partition: str | None, *, after: int) -> AsyncIterator[bytes]:
        """The run's events after index ``after`` as SSE frames (``id`` the index), live."""
        index = after
        entries = self._log.follow(
            key,
            partition,
            after=after,
            keepalive=self._keepalive,
            on_silence=lambda: self._runs.settle_if_orphaned(key),
        )
        async for entry in entries:
            if entry is None:
                yield SSE_KEEPALIVE
                continue
            index += 1
            yield f"id: {index}\ndata: {entry}\n\n".encode()
            if is_terminal(entry):
                return

    async def cancel(self, key: str) -> bool:
        """Stop the run wherever it runs; whether it was running."""
        return await self._runs.cancel(key)

    def cancel_later(self, key: str) -> None:
        """Cancel the run without waiting (its client went away)."""
        task = asyncio.create_task(self._runs.cancel(key))
        self._cancelling.add(task)
        task.add_done_callback(self._cancelling.discard)

    async def delete(self, keys: Sequence[str], partition: str | None) -> None:
        """Stop the runs of ``keys`` wherever they run, and drop their logs (their thread went)."""
        for key in keys:
            await self._runs.cancel(key)
            await self._log.delete(key, partition)
            await self._store.delete(self._info(key))
            await self._runs.forget(key)

    async def stop_all(self) -> None:
        """Cancel every run of this process (at shutdown)."""
        await self._runs.stop_all()

    async def _work(
        self, run: Run, events: RunEvents, writer: _Log, admission: RunAdmission
    ) -> None:
        """The run, then its claim set to expire with its log."""
        try:
            await self._run(run, events, writer, admission)
        finally:
            if self._ttl is not None:
                await self._store.expire(self._info(run.key), self._ttl)

    async def _run(
        self,
        run: Run,
        events: RunEvents,
        writer: _Log,
        admission: RunAdmission,
    ) -> None:
        thread, run_id = run.run_input.thread_id, run.run_input.run_id
        tracker = StateTracker(run.state)
        try:
            with tracker.bound():
                stream = await self._context.run_stream(run.request, protocol_request=run.run_input)
                async with stream:
                    async for update in stream:
                        await _append(writer, events.update(update))
                        await _append(writer, events.state_delta(tracker.changes()))
                    final = await stream.get_final_response()
            await _append(writer, events.state_delta(tracker.changes()))
            # The thread's history and this run's input: what a messages snapshot shows.
            record = await self._threads.get(run.partition, thread) or {}
            earlier = [*record.get("messages", []), *(wire_dict(m) for m in run.added)]
            closing, output, interrupts = events.finish(final.result, earlier)
            await self._threads.end(
                run.partition, thread, run_id, output, state=tracker.state, interrupts=interrupts
            )
            await _end(writer, closing, admission)
        except asyncio.CancelledError:
            await self._threads.end(run.partition, thread, run_id, state=tracker.state)
            await _end(writer, events.cancelled(), admission)
            await writer.close()
            raise
        except Exception as error:
            message, code = _fault(error, run_id)
            await self._threads.end(run.partition, thread, run_id, state=tracker.state)
            await _end(writer, events.failed(message, code), admission)
        await writer.close()

    async def _settle(self, key: str) -> None:
        """End the run of a process that died: its thread, then its log with ``RUN_ERROR``."""
        info = await self._store.get(self._info(key))
        if not isinstance(info, dict):
            return
        claim = cast("dict[str, Any]", info)
        await self._threads.end(claim["partition"], claim["threadId"], claim["runId"])
        if self._ttl is not None:
            await self._store.expire(self._info(key), self._ttl)
        writer = await self._log.writer(key)
        entries = await self._log.entries(key)
        if writer is None or (entries and is_terminal(entries[-1])):
            return
        await writer.append(encoded(RunErrorEvent(message=INTERRUPTED, code="interrupted")))
        await writer.close()

    def _info(self, key: str) -> str:
        return f"ag-ui:runinfo:{key}"


_Log = BoundedLogWriter[BaseEvent]
"""A run's log: past ``max_log_events`` entries, deltas of one message or call merge."""


async def _append(writer: _Log, events: Sequence[BaseEvent]) -> None:
    for event in events:
        await writer.append(event)


async def _end(writer: _Log, events: Sequence[BaseEvent], admission: RunAdmission) -> None:
    """Append the run's last events, its admission given back first.

    A follower stops at the run's last event: its client, having seen the run end, may
    start its next one at once.
    """
    await admission.release()
    await _append(writer, events)


def _fault(error: Exception, run_id: str) -> tuple[str, str]:
    """What the caller learns of a failed run; an agent's failure is only logged."""
    if isinstance(error, ConversationBusy):
        return str(error), "conversation_busy"
    if isinstance(error, WorkflowInputError):
        return str(error), "invalid_request"
    logger.exception("AG-UI run %s failed", run_id)
    return AGENT_FAILED, "agent_failed"

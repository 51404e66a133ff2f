"""Tool calls as runs owned in the state store, and their streams resumed from any process.

Each call of the agent tool in a session runs as a core :class:`BackgroundRuns` run
(``<session>.<stream token>``), owned by a lease of the process that serves it. When
that process dies (a crash, ``kill -9``, a lost replica), the next client that resumes
the call's stream with ``Last-Event-ID`` — at any process sharing the store, or at the
restarted one — finds the run orphaned, settles it by appending the call's result (a
tool error: interrupted) to the stream's events, and reads everything the client missed,
that result last. A session whose transport lives elsewhere, or died, serves such a
resume from the events alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, cast

import anyio
from agent_framework_hosting import SSE_KEEPALIVE, BackgroundRuns, StateStore
from mcp_types import JSONRPCResponse, RequestId, jsonrpc_message_adapter
from starlette.responses import StreamingResponse

from ._events import SessionEvents, parse_event_id, stream_token
from ._render import error_result

__all__ = ["INTERRUPTED", "CallRuns"]

INTERRUPTED = "The server stopped while this call ran, so it was interrupted. Call again."
_PRIMING = ""


class CallRuns:
    """One host's tool calls as owned runs, and the resumes of their streams."""

    def __init__(
        self,
        store: StateStore,
        *,
        event_ttl: float,
        keepalive: float = 15.0,
        lease_seconds: float = 10.0,
    ) -> None:
        self._store = store
        self._event_ttl = event_ttl
        self._keepalive = keepalive
        self._runs = BackgroundRuns(store, "mcp", settle=self._settle, lease_seconds=lease_seconds)

    async def run(
        self, session_id: str, request_id: RequestId, work: Callable[[], Awaitable[Any]]
    ) -> Any:
        """``work()``'s result, computed as the owned run of the call ``request_id``.

        Cancelling the caller cancels the run; a run stopped by the host's shutdown ends
        its stream as interrupted.
        """
        run_id = f"{session_id}.{stream_token(str(request_id))}"
        await self._store.set(self._call_key(run_id), {"id": request_id}, ttl=self._event_ttl)
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        by_caller = False

        async def owned() -> None:
            try:
                result = await work()
            except asyncio.CancelledError:
                if by_caller:
                    done.cancel()
                else:  # the host is stopping: the call ends as interrupted, stored and sent
                    await asyncio.shield(self._settle(run_id))
                    done.set_result(error_result(INTERRUPTED))
                raise
            except BaseException as error:
                done.set_exception(error)
                raise
            done.set_result(result)

        await self._runs.start(run_id, owned())
        try:
            return await asyncio.shield(done)
        except asyncio.CancelledError:
            by_caller = True
            with anyio.CancelScope(shield=True):
                await self._runs.cancel(run_id)
            raise
        finally:
            with anyio.CancelScope(shield=True):
                await self._runs.forget(run_id)

    async def stop_all(self) -> None:
        """Stop every call this process runs (at shutdown): each ends as interrupted."""
        await self._runs.stop_all()

    def resume(self, session_id: str, last_event_id: str) -> StreamingResponse | None:
        """The events after ``last_event_id`` as SSE, until the call's result.

        ``None`` when the id is not one this channel gives.
        """
        parsed = parse_event_id(last_event_id)
        if parsed is None:
            return None
        _, token, position = parsed
        return StreamingResponse(
            self._follow(session_id, token, position),
            media_type="text/event-stream",
            headers={"cache-control": "no-cache, no-transform", "mcp-session-id": session_id},
        )

    async def _follow(self, session_id: str, token: str, position: int) -> AsyncIterator[str]:
        run_id = f"{session_id}.{token}"
        key = SessionEvents(self._store, session_id, ttl=self._event_ttl).log_key(token)
        call: Any = await self._store.get(self._call_key(run_id))
        request_id = cast("dict[str, Any]", call).get("id") if isinstance(call, dict) else None
        while True:
            await self._runs.settle_if_orphaned(run_id)
            entries = await self._store.read_log(key, after=position, wait=self._keepalive)
            if not entries:
                if request_id is None:
                    return  # no call behind this stream: what was stored is all
                yield SSE_KEEPALIVE.decode()
                continue
            for entry in entries:
                position += 1
                if entry == _PRIMING:
                    continue
                yield f"id: {token}.{position}\nevent: message\ndata: {entry}\n\n"
                if _answers(entry, request_id):
                    return

    async def _settle(self, run_id: str) -> None:
        """End an interrupted call's stream with its result: a tool error saying so."""
        session_id, _, token = run_id.partition(".")
        call: Any = await self._store.get(self._call_key(run_id))
        if not isinstance(call, dict):
            return
        request_id = cast("dict[str, Any]", call).get("id")
        result = error_result(INTERRUPTED).model_dump(by_alias=True, exclude_none=True)
        message = JSONRPCResponse(jsonrpc="2.0", id=cast("RequestId", request_id), result=result)
        events = SessionEvents(self._store, session_id, ttl=self._event_ttl)
        await self._store.append(
            events.log_key(token),
            message.model_dump_json(by_alias=True, exclude_unset=True),
            ttl=self._event_ttl,
        )

    def _call_key(self, run_id: str) -> str:
        return f"mcp:call:{run_id}"


def _answers(entry: str, request_id: Any) -> bool:
    """Whether ``entry`` is the result (or error) of the call ``request_id``."""
    message = jsonrpc_message_adapter.validate_json(entry)
    return getattr(message, "id", None) == request_id and (
        hasattr(message, "result") or hasattr(message, "error")
    )

"""`AGUIChannel`: the AG-UI protocol over the host, and the web chat page that speaks it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Literal

from ag_ui.core import RunAgentInput
from agent_framework_hosting import (
    ISOLATION_KEYS_ATTRIBUTE,
    AuthenticationFailed,
    Authenticator,
    ChannelContext,
    ChannelContribution,
    ChannelIdentity,
    ChannelRequest,
    ChannelResponseHook,
    ChannelRunHook,
    ChannelSession,
    ChannelStreamUpdateHook,
    IsolationKeys,
    PermissionDenied,
    Principal,
    WireError,
    json_response,
    partition_key,
    read_body,
)
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from ._errors import AGUIError, host_error
from ._page import WebChatPage
from ._parse import RunTurn, check_id, parse_run_input, turn_of
from ._runs import Run, Runs
from ._threads import Threads, isolation_key, run_key, thread_view

__all__ = ["AGUIChannel"]


class AGUIChannel:
    """Serves the target over AG-UI, with a web chat page that talks to it.

    ``POST {path}`` takes a ``RunAgentInput`` and answers with the run's events as
    server-sent events. Each run is admitted within the host's run limits before anything
    is stored or answered (a run past its caller's limit is ``429`` with ``Retry-After``)
    and holds its place until it ends. Every run goes on without its request
    (``on_disconnect``) and logs its events: ``GET {path}/runs/{runId}`` replays and
    follows them, after ``Last-Event-ID`` when given. ``GET {path}/threads`` lists the
    caller's threads and ``GET {path}/threads/{threadId}`` gives one with its messages,
    state and open interrupts; ``POST {path}/runs/{runId}/cancel`` stops a run from any
    process.

    A ``threadId`` is a conversation inside the caller's partition: the principal the
    host's (or this channel's) authenticator proves, and the isolation keys of a trusted
    front end. On an open host every caller shares one partition.

    Args:
        path: Where the endpoint is mounted.
        name: The channel's name.
        page_path: Where the web chat page is served: ``GET {path}`` by default, another
            absolute path (``"/"``) instead, or ``None`` for no page.
        run_hook: Invoked by the host before each run; may rewrite the request.
        response_hook: Invoked by the host on each final result (redaction).
        stream_update_hook: Invoked by the host on each streamed update.
        auth: Proves who calls this channel, instead of the host's authenticator.
        on_disconnect: What a run does when the request that started it goes away:
            ``"keep"`` running (follow it again with ``GET {path}/runs/{runId}``) or
            ``"cancel"`` it.
        max_body_bytes: Larger request bodies are answered 413.
        keepalive_seconds: A silent stream gets an SSE comment after this long.
        run_lease_seconds: With a state store other processes share, how long a run's
            process may go silent before the run counts as interrupted.
        max_listed_threads: How many of a caller's threads ``GET {path}/threads`` lists.
        max_log_events: Events a run's log holds before the deltas that follow (of a
            message's text, of a call's arguments) are merged into one per message or
            call (a long run's log stays bounded; a reconnect still gets every character).
        run_ttl_seconds: How long a run that ended can still be followed (its log, its
            id) before the store drops it; ``None`` keeps it until its thread is deleted.
            The thread keeps its messages regardless.

    Raises:
        TypeError: A hook is not callable.
        ValueError: ``on_disconnect`` is neither ``"keep"`` nor ``"cancel"``, or
            ``max_log_events`` is less than 1, or ``run_ttl_seconds`` is not positive.

    """

    name = "ag-ui"
    """The default name; ``name=`` gives an instance another."""

    def __init__(
        self,
        *,
        path: str = "/ag-ui",
        name: str = "ag-ui",
        page_path: str | None = "",
        run_hook: ChannelRunHook | None = None,
        response_hook: ChannelResponseHook | None = None,
        stream_update_hook: ChannelStreamUpdateHook | None = None,
        auth: Authenticator | None = None,
        on_disconnect: Literal["keep", "cancel"] = "keep",
        max_body_bytes: int = 16 * 1024 * 1024,
        keepalive_seconds: float = 15.0,
        run_lease_seconds: float = 15.0,
        max_listed_threads: int = 100,
        max_log_events: int = 4096,
        run_ttl_seconds: float | None = 3600.0,
    ) -> None:
        for hook_name, hook in (("run_hook", run_hook), ("response_hook", response_hook)):
            if hook is not None and not callable(hook):
                raise TypeError(f"{hook_name} must be callable, got {type(hook).__name__}")
        if not (
            stream_update_hook is None
            or callable(stream_update_hook)
            or hasattr(stream_update_hook, "open_run")  # a ChannelStreamRunHook
        ):
            raise TypeError("stream_update_hook must be callable or a ChannelStreamRunHook")
        if on_disconnect not in ("keep", "cancel"):
            raise ValueError("on_disconnect must be 'keep' or 'cancel'")
        if max_log_events < 1:
            raise ValueError(f"max_log_events must be at least 1, got {max_log_events}")
        if run_ttl_seconds is not None and run_ttl_seconds <= 0:
            raise ValueError("run_ttl_seconds must be positive or None")
        self.path = path
        self.name = name
        self.page_path = path if page_path == "" else page_path
        self.run_hook = run_hook
        self.response_hook = response_hook
        self.stream_update_hook = stream_update_hook
        self.auth = auth
        self.on_disconnect = on_disconnect
        self.max_body_bytes = max_body_bytes
        self.keepalive_seconds = keepalive_seconds
        self.run_lease_seconds = run_lease_seconds
        self.max_listed_threads = max_listed_threads
        self.max_log_events = max_log_events
        self.run_ttl_seconds = run_ttl_seconds

    def contribute(self, context: ChannelContext) -> ChannelContribution:
        """The AG-UI routes under the channel's path, and the page where it is served."""
        endpoints = _Endpoints(self, context)
        page = WebChatPage(endpoint=self.path, title=context.target_name)
        routes: list[BaseRoute] = [
            Route("/", endpoints.run, methods=["POST"]),
            *page.asset_routes("/web"),
            Route("/threads", endpoints.threads, methods=["GET"]),
            Route("/threads/{thread_id}", endpoints.thread, methods=["GET"]),
            Route("/threads/{thread_id}", endpoints.delete_thread, methods=["DELETE"]),
            Route("/runs/{run_id}", endpoints.reconnect, methods=["GET"]),
            Route("/runs/{run_id}/cancel", endpoints.cancel, methods=["POST"]),
        ]
        mounts: dict[str, list[BaseRoute]] = {}
        if self.page_path is not None and _same(self.page_path, self.path):
            routes.append(Route("/", page.serve, methods=["GET"]))
        elif self.page_path is not None:
            mounts[self.page_path] = [Route("/", page.serve, methods=["GET"])]
        return ChannelContribution(
            routes=routes,
            mounts=mounts,
            on_shutdown=[endpoints.runs.stop_all],
            error_response=host_error,
        )


class _Endpoints:
    """The channel's endpoints on one host: runs, their streams, threads."""

    def __init__(self, channel: AGUIChannel, context: ChannelContext) -> None:
        self._channel = channel
        self._context = context
        self._threads = Threads(
            context.state_store,
            max_listed=channel.max_listed_threads,
            run_ttl=channel.run_ttl_seconds,
        )
        self.runs = Runs(
            context,
            self._threads,
            keepalive_seconds=channel.keepalive_seconds,
            lease_seconds=channel.run_lease_seconds,
            max_log_events=channel.max_log_events,
            ttl=channel.run_ttl_seconds,
        )

    async def run(self, request: Request) -> Response:
        """``POST {path}``: start a run and follow its events."""
        try:
            principal, keys, partition = await self._caller(request)
            run_input = parse_run_input(await _body(request, self._channel.max_body_bytes))
            thread_id = run_input.thread_id
            record = await self._threads.get(partition, thread_id) or {}
            turn = turn_of(
                run_input,
                await self._threads.seen(partition, thread_id),
                own_tools=self._context.target_tool_names,
                takes_options=self._context.target_takes_options,
            )
            state = _state_of(run_input.state, record.get("state"))
            run_request = self._run_request(run_input, turn, principal, keys, partition)
            key = run_key(run_input.run_id, partition)
            run = Run(key, partition, run_input, turn.added, state, run_request)
            # Admitted before anything is stored or answered; a refusal is the host's 429.
            admission = await self._context.admit(principal).acquire()
            await self.runs.start(run, admission)
        except AGUIError as error:
            return error.response()
        return _event_stream(self._followed(key, partition))

    async def reconnect(self, request: Request) -> Response:
        """``GET {path}/runs/{runId}``: the run's events after ``Last-Event-ID``, live."""
        try:
            _, _, partition = await self._caller(request)
            run_id = check_id(request.path_params["run_id"], "runId")
            after = _last_event_id(request)
            key = run_key(run_id, partition)
            if not await self.runs.exists(key, partition):
                raise _not_found("run", run_id)
        except AGUIError as error:
            return error.response()
        return _event_stream(self.runs.follow(key, partition, after=after))

    async def cancel(self, request: Request) -> Response:
        """``POST {path}/runs/{runId}/cancel``: stop the run wherever it runs."""
        try:
            _, _, partition = await self._caller(request)
            run_id = check_id(request.path_params["run_id"], "runId")
            key = run_key(run_id, partition)
            if not await self.runs.exists(key, partition):
                raise _not_found("run", run_id)
        except AGUIError as error:
            return error.response()
        cancelled = await self.runs.cancel(key)
        return json_response({"runId": run_id, "cancelled": cancelled})

    async def threads(self, request: Request) -> Response:
        """``GET {path}/threads``: the caller's threads, newest first."""
        try:
            _, _, partition = await self._caller(request)
        except AGUIError as error:
            return error.response()
        return json_response({"threads": await self._threads.listed(partition)})

    async def thread(self, request: Request) -> Response:
        """``GET {path}/threads/{threadId}``: a thread's messages, state and interrupts."""
        try:
            _, _, partition = await self._caller(request)
            thread_id = check_id(request.path_params["thread_id"], "threadId")
            record = await self._threads.get(partition, thread_id)
            if record is None:
                raise _not_found("thread", thread_id)
        except AGUIError as error:
            return error.response()
        return json_response(thread_view(record))

    async def delete_thread(self, request: Request) -> Response:
        """``DELETE {path}/threads/{threadId}``: forget a thread, its runs' logs, its session."""
        try:
            _, _, partition = await self._caller(request)
            thread_id = check_id(request.path_params["thread_id"], "threadId")
            run_ids = await self._threads.delete(partition, thread_id)
            if run_ids is None:
                raise _not_found("thread", thread_id)
        except AGUIError as error:
            return error.response()
        await self.runs.delete([run_key(run_id, partition) for run_id in run_ids], partition)
        await self._context.reset_session(isolation_key(thread_id, partition))
        return json_response({"threadId": thread_id, "deleted": True})

    def _run_request(
        self,
        run_input: RunAgentInput,
        turn: RunTurn,
        principal: Principal | None,
        keys: IsolationKeys,
        partition: str | None,
    ) -> ChannelRequest:
        """The host's request for a turn of the thread, in the caller's partition."""
        thread_id = run_input.thread_id
        options: dict[str, Any] = {}
        if turn.tools:
            options["tools"] = turn.tools
        if turn.instructions:
            options["instructions"] = turn.instructions
        return ChannelRequest(
            channel=self._channel.name,
            operation="message.create",
            input=turn.messages,
            session=ChannelSession(isolation_key=isolation_key(thread_id, partition)),
            options=options or None,
            metadata={"thread_id": thread_id, "run_id": run_input.run_id},
            attributes={} if keys.is_empty else {ISOLATION_KEYS_ATTRIBUTE: keys},
            stream=True,
            identity=ChannelIdentity(
                channel=self._channel.name,
                native_id=principal.subject if principal else "anonymous",
                attributes={"thread_id": thread_id},
            ),
            principal=principal,
        )

    async def _caller(self, request: Request) -> tuple[Principal | None, IsolationKeys, str | None]:
        """Who calls, the isolation keys a trusted front end gave, and their partition.

        Raises:
            AGUIError: The credentials prove nothing (401, ``WWW-Authenticate``), or the
                principal may not use the channel (403).

        """
        try:
            principal = await self._context.authenticate(request, auth=self._channel.auth)
        except AuthenticationFailed as error:
            raise AGUIError(
                error.message,
                code="unauthenticated",
                status=401,
                headers={"WWW-Authenticate": error.challenge},
            ) from None
        except PermissionDenied as error:
            raise AGUIError(error.message, code="permission_denied", status=403) from None
        keys = self._context.isolation_keys(request.headers)
        return principal, keys, partition_key(principal, keys)

    async def _followed(self, key: str, partition: str | None) -> AsyncIterator[bytes]:
        """The run's events for the request that started it; ``cancel`` if it leaves first."""
        ended = False
        try:
            async for frame in self.runs.follow(key, partition, after=-1):
                yield frame
            ended = True
        finally:
            if not ended and self._channel.on_disconnect == "cancel":
                self.runs.cancel_later(key)


async def _body(request: Request, limit: int) -> bytes:
    try:
        return await read_body(request, limit)
    except WireError as error:
        raise AGUIError(error.message, status=error.status) from None


def _state_of(given: Any, kept: Any) -> dict[str, Any]:
    """The state a run starts from: the client's, else the thread's last, else empty."""
    if given is not None and not isinstance(given, dict):
        raise AGUIError("'state' must be a JSON object.")
    if given:
        return given  # pyright: ignore[reportUnknownVariableType]
    return kept if isinstance(kept, dict) else {}  # pyright: ignore[reportUnknownVariableType]


def _last_event_id(request: Request) -> int:
    """The index to resume after: ``Last-Event-ID`` (or ``?after=``), else ``-1``."""
    value = request.headers.get("last-event-id", request.query_params.get("after", "-1"))
    if value == "-1":
        return -1
    if not (value.isascii() and value.isdigit()) or len(value) > 12:
        raise AGUIError("'Last-Event-ID' must be the id of an event of this run (an integer).")
    return int(value)


def _not_found(kind: str, identifier: str) -> AGUIError:
    return AGUIError(f"No {kind} {identifier!r}.", code="not_found", status=404)


def _same(first: str, second: str) -> bool:
    return first.strip("/") == second.strip("/")


def _event_stream(frames: AsyncIterator[bytes]) -> StreamingResponse:
    """A ``text/event-stream`` response that proxies do not buffer."""
    return StreamingResponse(
        frames,
        media_type="text/event-stream",
        headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
    )

"""`AgentFrameworkHost`: composes channels, sessions and the target into one ASGI app."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from functools import cached_property
from pathlib import Path
from typing import Any, cast

from agent_framework import CheckpointStorage, SupportsAgentRun, Workflow
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute, Mount, Route, Router, WebSocketRoute
from starlette.types import ExceptionHandler

from ._auth import AuthenticationFailed, Authenticator, PermissionDenied
from ._channel import Channel
from ._checkpoints import ConversationCheckpoints
from ._commands import builtin_commands
from ._context import ChannelContext, RunServices
from ._errors import ErrorShapes
from ._exchange import ExchangeGuard
from ._framework import own_checkpoint_storage
from ._hooks import declared_hooks
from ._index import index_routes
from ._isolation import IsolationHeadersMiddleware, trusted_platform_detected
from ._limits import RunLimiter, RunLimits, TooManyRuns
from ._paths import resolve_state_paths
from ._serve import serve_app
from ._sessions import ConversationSlots
from ._state import DiskStateStore, MemoryStateStore, StateStore
from ._targets import AgentRunner, TargetRunner, WorkflowRunner, describe_target
from ._telemetry import TraceContextMiddleware
from ._types import ChannelCommand, ChannelContribution

__all__ = ["AgentFrameworkHost"]

logger = logging.getLogger("agent_framework.hosting")

HostTarget = SupportsAgentRun | Workflow | Callable[[], Workflow]


class AgentFrameworkHost:
    """Serves one agent or workflow through any number of channels.

    Args:
        target: An agent (anything with ``run``/``create_session``), a ``Workflow``, or a
            zero-argument factory returning a new ``Workflow`` (each conversation gets its
            own instance).
        channels: The protocol adapters to mount; names must be unique, paths must not
            collide.
        debug: Turn the ``agent_framework.hosting`` logger up to DEBUG. Failed runs are
            always logged with their traceback on the server; callers never see internals,
            in any mode.
        checkpoint_location: Where a workflow target's conversations keep their
            checkpoints: a directory (one subdirectory per conversation), or a
            ``CheckpointStorage`` every conversation shares, each in a scope of its own. A
            workflow built with its own checkpoint storage keeps using it (the same way);
            giving one here as well is an error. Ignored, with a warning, for an agent.
        state_dir: A directory (deriving ``sessions/`` and, for workflows,
            ``checkpoints/``) or a :class:`HostStatePaths` mapping. Needs the ``disk``
            extra.
        trust_isolation_headers: Honour the ``x-agent-*-isolation-key`` headers. Defaults
            to ``True`` only when the ``FOUNDRY_HOSTING_ENVIRONMENT`` variable is set; turn
            it on only behind a front end that sets (and strips) those headers itself.
        max_live_sessions: Conversations kept live in memory; older ones are snapshotted to
            the state store and restored on their next turn.
        state_store: A state backend to use instead of memory or ``state_dir``.
        auth: Proves who calls every channel (a channel may hold its own); without it
            the host is open and its callers anonymous. See ``docs/auth.md``.
        limits: How many runs each principal may have going at once, in this process.

    Raises:
        TypeError: ``target`` is not one of those (a factory is called once to check that
            it returns a ``Workflow``), a channel is not a :class:`Channel`, or one of its
            hooks is not callable.
        ValueError: Two channels share a name, their paths collide, a channel has an
            attribute named like a hook that the host never calls, or a workflow with its
            own checkpoint storage is given another place for checkpoints.

    """

    def __init__(
        self,
        target: HostTarget,
        *,
        channels: Sequence[Channel],
        debug: bool = False,
        checkpoint_location: str | os.PathLike[str] | CheckpointStorage | None = None,
        state_dir: str | os.PathLike[str] | Mapping[str, Any] | None = None,
        trust_isolation_headers: bool | None = None,
        max_live_sessions: int = 1024,
        state_store: StateStore | None = None,
        auth: Authenticator | None = None,
        limits: RunLimits | None = None,
    ) -> None:
        self._target = describe_target(target)
        is_workflow = self._target.kind == "workflow"
        self.target = target
        self.channels: tuple[Channel, ...] = tuple(channels)
        self.debug = debug
        if debug:
            logger.setLevel(logging.DEBUG)
        self._channel_paths = _check_channels(self.channels)
        self._hooks = {channel.name: declared_hooks(channel) for channel in self.channels}
        paths = resolve_state_paths(state_dir, workflow=is_workflow)
        if checkpoint_location is not None and not is_workflow:
            logger.warning("checkpoint_location is set but the target is an agent; ignoring it")
        if state_store is not None:
            self.state_store: StateStore = state_store
        elif "sessions" in paths:
            self.state_store = DiskStateStore(paths["sessions"])
        else:
            self.state_store = MemoryStateStore()
        self._runner: TargetRunner = (
            WorkflowRunner(
                cast("Workflow | Callable[[], Workflow]", target),
                checkpoints=_conversation_checkpoints(
                    cast("Workflow | Callable[[], Workflow]", target),
                    checkpoint_location,
                    paths.get("checkpoints"),
                    self.state_store,
                ),
            )
            if is_workflow
            else AgentRunner(cast("SupportsAgentRun", target))
        )
        self._slots: ConversationSlots[Any] = ConversationSlots(
            self._runner.codec(), self.state_store, max_live=max_live_sessions
        )
        self.trust_isolation_headers = (
            trusted_platform_detected()
            if trust_isolation_headers is None
            else trust_isolation_headers
        )
        self.auth = auth
        self.limits = limits or RunLimits()
        self._contributed_commands: list[ChannelCommand] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._served: list[tuple[str, str]] = []

    def reset_session(self, isolation_key: str) -> None:
        """Give ``isolation_key`` a brand-new session from its next request on.

        Callable from anywhere. From another thread (or before the app runs) it returns
        once the reset is stored. On the app's own event loop it cannot wait for the
        store: it starts the reset, and the key's next turn waits for it to finish;
        ``await host.areset_session(key)`` there to wait for it yourself.
        """
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        loop = self._loop
        if loop is not None and running is loop:
            self._slots.schedule_reset(isolation_key)
        elif loop is not None and loop.is_running():
            asyncio.run_coroutine_threadsafe(self.areset_session(isolation_key), loop).result()
        elif running is None:
            asyncio.run(self.areset_session(isolation_key))
        else:  # inside another event loop, with the app not running
            with ThreadPoolExecutor(1) as worker:
                worker.submit(asyncio.run, self.areset_session(isolation_key)).result()

    async def areset_session(self, isolation_key: str) -> None:
        """Give ``isolation_key`` a brand-new session from its next request on."""
        await self._slots.reset(isolation_key)

    @property
    def commands(self) -> tuple[ChannelCommand, ...]:
        """The host's built-in commands followed by every channel's contributed ones."""
        builtin = builtin_commands(self.areset_session)
        names = {command.name for command in self._contributed_commands}
        return (
            *(command for command in builtin if command.name not in names),
            *self._contributed_commands,
        )

    @cached_property
    def app(self) -> Starlette:
        """The Starlette application serving every channel (built once)."""
        services = RunServices(
            target=self.target,
            runner=self._runner,
            slots=self._slots,
            trust_isolation_headers=self.trust_isolation_headers,
            commands=lambda: self.commands,
            reset_session=self.areset_session,
            state_store=self.state_store,
            target_name=self._target.name,
            authenticator=self.auth,
            limiter=RunLimiter(self.limits),
        )
        routes: list[BaseRoute] = [Route("/readiness", _readiness, methods=["GET"])]
        contributions: list[tuple[Channel, ChannelContribution]] = []
        claimed = dict(self._channel_paths)
        shapes = ErrorShapes()
        for channel in self.channels:
            context = ChannelContext(services, channel, self._hooks[channel.name])
            contribution = channel.contribute(context)
            contributions.append((channel, contribution))
            self._contributed_commands.extend(contribution.commands)
            routes.extend(_mount(channel.path, contribution.routes))
            if contribution.routes:
                self._served.append((channel.name, _shown(channel.path)))
            for path, mounted in contribution.mounts.items():
                _claim_path(claimed, path, f"{channel.name!r} (mount {path!r})")
                routes.extend(_mount(path, mounted))
                self._served.append((channel.name, _shown(path)))
            shapes.claim([channel.path, *contribution.mounts], contribution.error_response)
        routes.extend(index_routes(self._target, [c.name for c in self.channels], self._served))
        refused = cast("ExceptionHandler", shapes.caller_refused)  # a Response, or None
        middleware = [Middleware(ExchangeGuard, shapes=shapes), Middleware(TraceContextMiddleware)]
        if self.trust_isolation_headers:
            middleware.append(Middleware(IsolationHeadersMiddleware))
        app = Starlette(
            routes=routes,
            lifespan=self._lifespan(contributions),
            middleware=middleware,
            exception_handlers={
                HTTPException: shapes.http_exception,
                AuthenticationFailed: refused,
                PermissionDenied: refused,
                TooManyRuns: refused,
            },
        )
        # Every path answers in its channel's shape: no trailing-slash redirects.
        app.router.redirect_slashes = False
        return app

    def serve(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 8000,
        workers: int = 1,
        access_log: bool = True,
        **hypercorn_config: Any,
    ) -> None:
        """Serve the app with Hypercorn until interrupted (needs the ``serve`` extra).

        Once started it prints the base URL and a line per path each channel serves; with
        ``access_log`` a line per request. Further keywords are Hypercorn settings.

        Raises:
            SystemExit: The port is in use (or cannot be listened on): one line naming it.

        """
        app = self.app  # built first: it records what each channel serves
        kind, name = self._target
        title = f"Serving the {kind}" if name == kind else f"Serving {kind} {name!r}"
        serve_app(
            app,
            host=host,
            port=port,
            workers=workers,
            title=title,
            paths=[*self._served, *self._pathless(), ("readiness", "/readiness")],
            access_log=access_log,
            **hypercorn_config,
        )

    def _pathless(self) -> list[tuple[str, None]]:
        """The channels that serve no path (a bot that polls its platform, say)."""
        serving = {name for name, _ in self._served}
        return [(channel.name, None) for channel in self.channels if channel.name not in serving]

    def _lifespan(
        self, contributions: list[tuple[Channel, ChannelContribution]]
    ) -> Callable[[Starlette], Any]:
        @asynccontextmanager
        async def lifespan(_app: Starlette) -> AsyncGenerator[None]:
            started: list[tuple[Channel, ChannelContribution]] = []
            self._loop = asyncio.get_running_loop()
            try:
                for channel, contribution in contributions:
                    started.append((channel, contribution))
                    for callback in contribution.on_startup:
                        try:
                            await callback()
                        except Exception as exc:
                            raise RuntimeError(
                                f"Channel {channel.name!r} failed to start: {exc}"
                            ) from exc
                yield
            finally:
                failed: Exception | None = None
                for channel, contribution in reversed(started):
                    for callback in contribution.on_shutdown:
                        try:
                            await callback()
                        except Exception as exc:
                            logger.exception("Channel %r failed to shut down", channel.name)
                            failed = failed or exc
                self._loop = None
                await self.state_store.close()
                # Every channel got its chance to stop; the first failure ends the lifespan.
                if failed is not None:
                    raise failed

        return lifespan


async def _readiness(_request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def _shown(path: str) -> str:
    """A mount path as a URL path: ``responses/`` → ``/responses``, ``""`` → ``/``."""
    return "/" + path.strip("/")


def _mount(path: str, routes: Sequence[BaseRoute]) -> list[BaseRoute]:
    """Mount ``routes`` under ``path``; a route at ``/`` also answers the bare path.

    That holds for WebSocket routes too: a WebSocket handshake is never redirected.
    """
    stripped = path.strip("/")
    if not stripped or not routes:
        return list(routes)
    prefix = "/" + stripped
    bare: list[BaseRoute] = []
    for route in routes:
        if isinstance(route, Route) and route.path == "/":
            bare.append(Route(prefix, route.endpoint, methods=route.methods, name=route.name))
        elif isinstance(route, WebSocketRoute) and route.path == "/":
            bare.append(WebSocketRoute(prefix, route.endpoint, name=route.name))
    # The mount's own router redirects no trailing slash either.
    mounted = Router(routes=list(routes), redirect_slashes=False)
    return [*bare, Mount(prefix, app=mounted)]


def _check_channels(channels: Sequence[Channel]) -> dict[str, str]:
    """Check names and paths; return each channel's normalized path → its quoted name."""
    names: dict[str, Channel] = {}
    paths: dict[str, str] = {}
    for channel in channels:
        if not isinstance(channel, Channel):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise TypeError(
                f"{channel!r} is not a Channel: it needs name, path and contribute(context)"
            )
        if channel.name in names:
            raise ValueError(
                f"Two channels are named {channel.name!r}; channel names must be unique"
            )
        names[channel.name] = channel
        _claim_path(paths, channel.path, repr(channel.name))
    return paths


def _claim_path(claimed: dict[str, str], path: str, owner: str) -> None:
    """Record ``owner`` at ``path``, unless that would shadow (or be shadowed by) a claim."""
    normalized = "/" + path.strip("/") if path.strip("/") else ""
    for other_path, other in claimed.items():
        if _paths_collide(normalized, other_path):
            raise ValueError(
                f"Channels {other} and {owner} are both mounted at {normalized!r}; "
                "give one of them another path"
            )
    claimed[normalized] = owner


def _paths_collide(first: str, second: str) -> bool:
    """Whether one mount would shadow the other (same path, or one nested in the other)."""
    if not first or not second:
        return False
    return first == second or first.startswith(second + "/") or second.startswith(first + "/")


def _conversation_checkpoints(
    target: Workflow | Callable[[], Workflow],
    location: str | os.PathLike[str] | CheckpointStorage | None,
    derived: Path | None,
    state_store: StateStore,
) -> ConversationCheckpoints:
    """Where a workflow's conversations checkpoint: ``location``, its own storage, or ``derived``.

    With none of these and a state store other processes share (Redis), the checkpoints go
    to that store, so that any replica resumes a conversation.

    Raises:
        ValueError: The workflow has its own storage and is given another place too.

    """
    own = own_checkpoint_storage(target if isinstance(target, Workflow) else target())
    if own is not None:
        if location is not None or derived is not None:
            given = "checkpoint_location" if location is not None else "state_dir's checkpoints"
            raise ValueError(
                f"The workflow was built with its own checkpoint storage and {given} is set "
                "too; keep one: drop WorkflowBuilder(checkpoint_storage=...), or give "
                "state_dir={'sessions': ...} without checkpoints and no checkpoint_location."
            )
        return ConversationCheckpoints(storage=own)
    if location is None and derived is None and state_store.shared:
        return ConversationCheckpoints(store=state_store)
    if location is None:
        return ConversationCheckpoints(directory=derived)
    if isinstance(location, str | os.PathLike):
        return ConversationCheckpoints(directory=Path(location))
    return ConversationCheckpoints(storage=location)

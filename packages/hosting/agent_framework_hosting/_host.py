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

from agent_framework import SupportsAgentRun, Workflow
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute, Mount, Route, Router, WebSocketRoute
from starlette.types import ExceptionHandler

from ._auth import AuthenticationFailed, Authenticator, PermissionDenied
from ._channel import Channel
from ._commands import builtin_commands
from ._context import ChannelContext, RunServices
from ._errors import ErrorShapes
from ._exchange import ExchangeGuard
from ._index import index_routes
from ._isolation import trusted_platform_detected
from ._limits import RunLimiter, RunLimits, TooManyRuns
from ._paths import resolve_state_paths
from ._serve import serve_app
from ._sessions import ConversationSlots
from ._state import DiskStateStore, MemoryStateStore, StateStore
from ._targets import AgentRunner, TargetRunner, WorkflowRunner, describe_target
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
        checkpoint_location: Directory for per-conversation workflow checkpoints.
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
            it returns a ``Workflow``), or a channel is not a :class:`Channel`.
        ValueError: Two channels share a name, or their paths collide.

    """

    def __init__(
        self,
        target: HostTarget,
        *,
        channels: Sequence[Channel],
        debug: bool = False,
        checkpoint_location: str | os.PathLike[str] | None = None,
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
        paths = resolve_state_paths(state_dir, workflow=is_workflow)
        if checkpoint_location is not None:
            paths["checkpoints"] = Path(checkpoint_location)
        if state_store is not None:
            self.state_store: StateStore = state_store
        elif "sessions" in paths:
            self.state_store = DiskStateStore(paths["sessions"])
        else:
            self.state_store = MemoryStateStore()
        self._runner: TargetRunner = (
            WorkflowRunner(target, checkpoint_dir=paths.get("checkpoints"))  # pyright: ignore[reportArgumentType]
            if is_workflow
            else AgentRunner(target)  # pyright: ignore[reportArgumentType]
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
            contribution = channel.contribute(ChannelContext(services, channel))
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
        app = Starlette(
            routes=routes,
            lifespan=self._lifespan(contributions),
            middleware=[Middleware(ExchangeGuard, shapes=shapes)],
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
                for channel, contribution in reversed(started):
                    for callback in contribution.on_shutdown:
                        try:
                            await callback()
                        except Exception:
                            logger.exception("Channel %r failed to shut down", channel.name)
                self._loop = None
                await self.state_store.close()

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

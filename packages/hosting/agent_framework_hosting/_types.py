"""The channel contract: the envelope a channel builds and the result it renders."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, TypeAlias, runtime_checkable

from agent_framework import AgentResponse, AgentResponseUpdate, AgentRunInputs, AgentSession
from starlette.routing import BaseRoute
from typing_extensions import TypeVar

from ._auth import Principal
from ._errors import HostErrorRenderer

if TYPE_CHECKING:
    from ._context import ChannelContext

__all__ = [
    "ChannelCommand",
    "ChannelCommandContext",
    "ChannelContribution",
    "ChannelIdentity",
    "ChannelRequest",
    "ChannelResponseHook",
    "ChannelRunHook",
    "ChannelSession",
    "ChannelStreamRun",
    "ChannelStreamRunHook",
    "ChannelStreamUpdateHook",
    "HostedRunResult",
    "SessionMode",
]

SessionMode: TypeAlias = Literal["auto", "disabled"]
"""``"auto"`` resolves a session from ``ChannelRequest.session``; ``"disabled"`` skips it."""


@dataclass(frozen=True, slots=True)
class ChannelSession:
    """Opt-in conversation continuity: requests with the same key share one session.

    The host treats ``isolation_key`` as an opaque partition key. A channel sets it only
    for a caller it has authenticated (or that a trusted front end vouched for).
    """

    isolation_key: str | None = None


@dataclass(frozen=True, slots=True, init=False)
class ChannelIdentity:
    """Who is speaking, in the channel's own terms; ``attributes`` is never ``None``."""

    channel: str
    native_id: str
    attributes: Mapping[str, Any]

    def __init__(
        self, channel: str, native_id: str, attributes: Mapping[str, Any] | None = None
    ) -> None:
        object.__setattr__(self, "channel", channel)
        object.__setattr__(self, "native_id", native_id)
        object.__setattr__(self, "attributes", {} if attributes is None else attributes)


@dataclass(slots=True)
class ChannelRequest:
    """The channel-neutral envelope for one run of the target.

    ``principal`` is the caller the channel authenticated (``None`` on an open host).
    Hooks rewrite it with :func:`dataclasses.replace`.
    """

    channel: str
    operation: str
    input: AgentRunInputs
    session: ChannelSession | None = None
    options: Mapping[str, Any] | None = None
    session_mode: SessionMode = "auto"
    metadata: Mapping[str, Any] = field(default_factory=dict[str, Any])
    attributes: Mapping[str, Any] = field(default_factory=dict[str, Any])
    stream: bool = False
    identity: ChannelIdentity | None = None
    principal: Principal | None = None

    @property
    def isolation_key(self) -> str | None:
        """The key that selects a session, or ``None`` when the run is stateless."""
        if self.session_mode == "disabled" or self.session is None:
            return None
        return self.session.isolation_key


class _Unset:
    """Marker for "argument not passed" where ``None`` is a meaningful value."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<unset>"


_UNSET: Any = _Unset()


TResult = TypeVar("TResult", default=AgentResponse)


class HostedRunResult(Generic[TResult]):
    """The final result of a run, as the response hook receives and returns it.

    ``result`` is the target's :class:`AgentResponse`. For a workflow target it is a
    ``WorkflowTurnResponse``: an ``AgentResponse`` (the outputs as messages, then the
    requests left pending) that also answers ``get_outputs()`` and the rest of the
    framework's ``WorkflowRunResult``. Any other attribute read on this object is read on
    ``result`` (``.messages``, ``.value``, ``.usage_details``, ``.to_dict()``), so code
    written for the framework's response works on it too.
    """

    __slots__ = ("result", "session")

    def __init__(self, result: TResult, *, session: AgentSession | None = None) -> None:
        self.result = result
        self.session = session

    def replace(
        self,
        *,
        result: TResult = _UNSET,
        session: AgentSession | None = _UNSET,
    ) -> HostedRunResult[TResult]:
        """Return a copy with ``result`` and/or ``session`` replaced.

        Passing ``session=None`` explicitly clears the session; omitting it keeps it.
        """
        return HostedRunResult(
            self.result if result is _UNSET else result,
            session=self.session if session is _UNSET else session,
        )

    @property
    def text(self) -> str:
        """The concatenated text of the result's messages."""
        text: object = getattr(self.result, "text", "")
        return text if isinstance(text, str) else ""

    def __repr__(self) -> str:
        return f"HostedRunResult(result={self.result!r}, session={self.session!r})"

    if not TYPE_CHECKING:  # at run time only: typed code reads ``result`` by name

        def __getattr__(self, name: str) -> Any:
            if name.startswith("_"):
                raise AttributeError(name)
            try:
                result = object.__getattribute__(self, "result")
            except AttributeError:
                raise AttributeError(name) from None
            return getattr(result, name)


@dataclass(frozen=True, slots=True)
class ChannelCommandContext:
    """What a command handler gets: the request that invoked it and a way to answer."""

    request: ChannelRequest
    reply: Callable[[str], Awaitable[None]]
    context: ChannelContext | None = None


@dataclass(frozen=True, slots=True)
class ChannelCommand:
    """A channel-neutral command (``new``, ``reset``, …) that channels expose natively."""

    name: str
    description: str
    handle: Callable[[ChannelCommandContext], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ChannelContribution:
    """What a channel hands the host: routes, commands and lifecycle callbacks.

    ``routes`` are mounted under the channel's path. ``mounts`` maps further absolute
    paths of the app to routes mounted there, for endpoints that live beside the
    channel's path (the Responses channel serves ``/conversations`` next to
    ``/responses``). The host checks each of them against every channel path and every
    other mount, like channel paths, and mounts a route at ``/`` at the bare path too.

    ``error_response`` renders the errors the host answers itself under the channel's
    path and its mounts (no route, a wrong method, a failure outside the channel's
    code) in the channel's protocol; without it they get the host's plain
    ``{"error": {"code", "message"}}``.
    """

    routes: Sequence[BaseRoute] = ()
    commands: Sequence[ChannelCommand] = ()
    on_startup: Sequence[Callable[[], Awaitable[None]]] = ()
    on_shutdown: Sequence[Callable[[], Awaitable[None]]] = ()
    mounts: Mapping[str, Sequence[BaseRoute]] = field(
        default_factory=dict[str, Sequence[BaseRoute]]
    )
    error_response: HostErrorRenderer | None = None


ChannelRunHook: TypeAlias = Callable[..., "ChannelRequest | Awaitable[ChannelRequest]"]
"""``hook(request, *, target, protocol_request) -> ChannelRequest`` (sync or async).

Called once before the run; may rewrite the request (force or strip options, change input).
"""

ChannelResponseHook: TypeAlias = Callable[..., "HostedRunResult | Awaitable[HostedRunResult]"]
"""``hook(result, *, request, channel_name) -> HostedRunResult`` (sync or async).

Called once on the final result, streamed or not: the place for redaction.
"""


class ChannelStreamRun(Protocol):
    """One streamed run of a :class:`ChannelStreamRunHook`: it may hold updates back."""

    def update(
        self, update: AgentResponseUpdate
    ) -> Sequence[AgentResponseUpdate] | Awaitable[Sequence[AgentResponseUpdate]]:
        """The updates to send for ``update``: none, it, a rewrite, or several."""
        ...

    def end(self) -> Sequence[AgentResponseUpdate] | Awaitable[Sequence[AgentResponseUpdate]]:
        """The updates to send once the run's updates have ended (what was held back).

        Not called when the run fails or the client goes away: held updates are dropped.
        """
        ...


@runtime_checkable
class ChannelStreamRunHook(Protocol):
    """A stream-update hook with state per run, such as :class:`StreamRedactor`.

    The host calls ``open_run(request)`` when a streamed run starts, passes each update
    through the returned run's ``update``, and sends what its ``end`` returns after the
    last update, before the final result. One object serves any number of runs at once.
    """

    def open_run(self, request: ChannelRequest) -> ChannelStreamRun:
        """The state of one streamed run of ``request`` (after the run hook)."""
        ...


ChannelStreamUpdateHook: TypeAlias = (
    Callable[
        [AgentResponseUpdate],
        "AgentResponseUpdate | Awaitable[AgentResponseUpdate | None] | None",
    ]
    | ChannelStreamRunHook
)
"""``hook(update) -> update | None`` (sync or async), or a :class:`ChannelStreamRunHook`.

A plain hook sees each streamed update before the channel renders it; returning ``None``
drops the update. A run hook also sees where the updates end, so it can hold text back
across updates (:class:`StreamRedactor`). Neither sees the final result: redact that with
a response hook.
"""

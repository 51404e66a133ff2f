"""`ChannelContext`: the one door a channel has to the target, sessions and commands."""

from __future__ import annotations

import copy
from collections.abc import AsyncGenerator, Awaitable, Callable, Collection, Mapping
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, cast

from agent_framework import (
    AgentResponse,
    AgentResponseUpdate,
    AgentSession,
    Message,
    normalize_messages,
)
from starlette.requests import HTTPConnection

from ._auth import AuthenticationFailed, Authenticator, Caller, Principal, require_scopes
from ._hooks import NOT_GIVEN, ChannelHooks, StreamHook, call_hook, declared_hooks
from ._isolation import IsolationKeys, isolation_keys_from_headers
from ._limits import RunAdmission, RunLimiter
from ._run_scope import ISOLATION_KEYS_ATTRIBUTE, RunScope
from ._sessions import ConversationSlots
from ._state import StateStore
from ._stream import HostedRunStream, UpdateStreamStarted
from ._targets import TargetRunner, WorkflowSlot
from ._telemetry import TurnTelemetry
from ._types import (
    ChannelCommand,
    ChannelRequest,
    ChannelResponseHook,
    ChannelRunHook,
    ChannelStreamUpdateHook,
    HostedRunResult,
)

__all__ = ["ISOLATION_KEYS_ATTRIBUTE", "ChannelContext", "HostedRunStream", "RunServices"]


@dataclass(frozen=True, slots=True)
class RunServices:
    """What the host shares with every channel context."""

    target: Any
    runner: TargetRunner
    slots: ConversationSlots[Any]
    trust_isolation_headers: bool
    commands: Callable[[], tuple[ChannelCommand, ...]]
    reset_session: Callable[[str], Awaitable[None]]
    state_store: StateStore
    target_name: str
    authenticator: Authenticator | None = None
    limiter: RunLimiter = field(default_factory=RunLimiter)


class ChannelContext:
    """Handed to :meth:`Channel.contribute`; runs the target on the channel's behalf.

    The host invokes the channel's hooks here, in a fixed order: ``run_hook`` on the
    request, then session resolution under the key's lock, then the run; each streamed
    update passes ``stream_update_hook``; the final result passes ``response_hook``.
    The hooks are those the channel declares (``hooks``, checked when the host is built);
    a hook passed to :meth:`run` or :meth:`run_stream` replaces the declared one of its
    kind for that run.
    """

    def __init__(
        self, services: RunServices, channel: object, hooks: ChannelHooks | None = None
    ) -> None:
        self._services = services
        self.channel_name: str = str(getattr(channel, "name", ""))
        self.hooks = declared_hooks(channel) if hooks is None else hooks

    @property
    def target(self) -> Any:
        """The agent or workflow the host serves."""
        return self._services.target

    @property
    def target_name(self) -> str:
        """The name the target goes by: the agent's or workflow's own, else its kind.

        For a protocol that names what it serves (a model list, an agent card).
        """
        return self._services.target_name

    @property
    def target_tool_names(self) -> frozenset[str]:
        """The names of the function tools the target brings to every run itself.

        An agent's own tools, and its MCP servers' tools once connected; none for a
        workflow. Tools a request declares must take other names: the framework refuses
        a duplicate tool name when the run starts, so a channel checks before that.
        """
        return self._services.runner.tool_names()

    @property
    def target_takes_options(self) -> bool:
        """Whether a run's chat options reach the target: true for an agent.

        A workflow's agents run with their own options, so a workflow target ignores
        ``ChannelRequest.options``; a channel refuses a request that sets them rather
        than drop them unseen.
        """
        return self._services.runner.takes_options

    @property
    def commands(self) -> tuple[ChannelCommand, ...]:
        """Every command of the host: the built-ins and all channels' contributions."""
        return self._services.commands()

    @property
    def trusts_isolation_headers(self) -> bool:
        """Whether a trusted front end sets the isolation headers for this host."""
        return self._services.trust_isolation_headers

    @property
    def authenticator(self) -> Authenticator | None:
        """The host's authenticator, or ``None`` when the host is open."""
        return self._services.authenticator

    async def authenticate(
        self,
        connection: HTTPConnection,
        *,
        auth: Authenticator | None = None,
        scopes: Collection[str] = (),
    ) -> Principal | None:
        """The caller's principal, proven by ``auth`` (the channel's own) or the host's.

        ``None`` only when neither is set: the host is open and the caller anonymous.
        Raised from a route, either error is answered by the host in the channel's error
        shape (``401`` with ``WWW-Authenticate``, ``403``); a WebSocket handshake is
        refused with the same answer.

        Raises:
            AuthenticationFailed: Authentication is required and the request carries no
                credentials, or credentials that prove nothing.
            PermissionDenied: The principal may not use the channel, or lacks one of
                ``scopes``.

        """
        authenticator = auth or self._services.authenticator
        if authenticator is None:
            return None
        principal = await authenticator.authenticate(connection)
        if principal is None:
            raise AuthenticationFailed(challenge=authenticator.challenge)
        require_scopes(principal, scopes)
        return principal

    async def caller(
        self,
        connection: HTTPConnection,
        *,
        auth: Authenticator | None = None,
        scopes: Collection[str] = (),
    ) -> Caller:
        """Who calls: the principal :meth:`authenticate` proves, and the trusted isolation keys.

        Its ``partition`` is the one a channel keeps the caller's objects in.

        Raises:
            AuthenticationFailed: As :meth:`authenticate`.
            PermissionDenied: As :meth:`authenticate`.

        """
        principal = await self.authenticate(connection, auth=auth, scopes=scopes)
        return Caller(principal, self.isolation_keys(connection.headers))

    def admit(self, principal: Principal | None, *, background: bool = False) -> RunAdmission:
        """A place for one run of ``principal`` within the host's run limits.

        Take it (``async with``, or ``await admission.acquire()``) before the run starts
        and before anything is answered, and hold it until the run ends. Raised from a
        route, its error is answered ``429`` with ``Retry-After`` in the channel's shape.

        Raises:
            TooManyRuns: When taken: ``principal`` already has as many runs of this kind
                (waited on, or ``background``) as it may.

        """
        return self._services.limiter.admit(principal, background=background)

    def isolation_keys(self, headers: Mapping[str, str]) -> IsolationKeys:
        """The isolation keys of a request, or empty keys when headers are not trusted."""
        if not self._services.trust_isolation_headers:
            return IsolationKeys()
        return isolation_keys_from_headers(headers)

    @property
    def state_store(self) -> StateStore:
        """The host's state store, for the channel's own objects (namespace the keys)."""
        return self._services.state_store

    async def reset_session(self, isolation_key: str) -> None:
        """Start a fresh session for ``isolation_key`` from its next turn on."""
        await self._services.reset_session(isolation_key)

    async def run(
        self,
        request: ChannelRequest,
        *,
        protocol_request: Any = None,
        run_hook: ChannelRunHook | None = NOT_GIVEN,
        response_hook: ChannelResponseHook | None = NOT_GIVEN,
        channel_name: str | None = None,
    ) -> HostedRunResult[AgentResponse]:
        """Run the target to completion and return the (response-hooked) result.

        ``run_hook`` and ``response_hook``, when passed (``None`` included), replace the
        channel's declared hooks for this run; ``channel_name`` is what the response hook
        is told (the channel's name by default).
        """
        hooks = self.hooks.overridden(run_hook=run_hook, response_hook=response_hook)
        request = await self._prepare(request, protocol_request, hooks)
        messages = _stamped_messages(request)
        turn = TurnTelemetry(request, channel=self.channel_name)
        scope = RunScope(request, self._services.target, turn)
        try:
            with scope.step():
                async with self._lease(request) as slot:
                    response = await self._services.runner.run(messages, slot, request.options)
            result = HostedRunResult(response, session=_session_of(slot, request))
            result = await self._finish(result, request, hooks, channel_name)
        except BaseException as error:
            turn.end(error)
            raise
        turn.end()
        return result

    async def check_input(self, request: ChannelRequest) -> None:
        """Check the request's input against its conversation's state, without running it.

        A channel calls it before it commits to an answer (a stream's status line), so a
        client's mistake is answered as one. The run hook is not called; ``run`` and
        ``run_stream`` check again.

        Raises:
            WorkflowInputError: A workflow target's conversation cannot take this input:
                answers that do not fit its pending requests, or a new message while
                requests are pending.

        """
        messages = list(normalize_messages(request.input))
        await self._services.runner.check(messages, lambda: self._lease(request))

    async def run_stream(
        self,
        request: ChannelRequest,
        *,
        protocol_request: Any = None,
        run_hook: ChannelRunHook | None = NOT_GIVEN,
        stream_update_hook: ChannelStreamUpdateHook | None = NOT_GIVEN,
        response_hook: ChannelResponseHook | None = NOT_GIVEN,
        channel_name: str | None = None,
    ) -> HostedRunStream:
        """Start a streamed run; iterate the result, then call ``get_final_response()``.

        Awaiting the stream instead runs it to its end and gives its final result. Hooks
        passed here replace the channel's declared hooks for this run, as in :meth:`run`.
        """
        hooks = self.hooks.overridden(
            run_hook=run_hook, stream_update_hook=stream_update_hook, response_hook=response_hook
        )
        request = await self._prepare(request, protocol_request, hooks)
        return HostedRunStream(
            lambda started: self._stream(request, hooks, channel_name, started), request
        )

    async def _prepare(
        self, request: ChannelRequest, protocol_request: Any, hooks: ChannelHooks
    ) -> ChannelRequest:
        if hooks.run_hook is None:
            return request
        rewritten = await call_hook(
            hooks.run_hook,
            request,
            target=self._services.target,
            protocol_request=protocol_request,
        )
        if not isinstance(rewritten, ChannelRequest):
            raise TypeError(
                f"run_hook of channel {self.channel_name!r} must return a ChannelRequest, "
                f"got {type(rewritten).__name__}"
            )
        return rewritten

    def _lease(self, request: ChannelRequest) -> AbstractAsyncContextManager[Any]:
        key = request.isolation_key
        if key is None:
            return nullcontext(self._services.runner.fresh_slot())
        return self._services.slots.lease(key)

    async def _finish(
        self,
        result: HostedRunResult[AgentResponse],
        request: ChannelRequest,
        hooks: ChannelHooks,
        channel_name: str | None,
    ) -> HostedRunResult[AgentResponse]:
        if hooks.response_hook is None:
            return result
        hooked = await call_hook(
            hooks.response_hook,
            result,
            request=request,
            channel_name=channel_name or self.channel_name,
        )
        if not isinstance(hooked, HostedRunResult):
            raise TypeError(
                f"response_hook of channel {self.channel_name!r} must return a "
                f"HostedRunResult, got {type(hooked).__name__}"
            )
        return hooked  # pyright: ignore[reportUnknownVariableType]

    async def _stream(
        self,
        request: ChannelRequest,
        hooks: ChannelHooks,
        channel_name: str | None,
        started: UpdateStreamStarted,
    ) -> AsyncGenerator[AgentResponseUpdate | HostedRunResult[AgentResponse], None]:
        """Yield hooked updates, then the hooked final result as the last item."""
        messages = _stamped_messages(request)
        hook = StreamHook(hooks.stream_update_hook, request)
        turn = TurnTelemetry(request, channel=self.channel_name)
        # The scope is entered around each step of the run, never across a ``yield``: the
        # consumer must not see it, and may iterate (or close) from another task.
        scope = RunScope(request, self._services.target, turn)
        try:
            async with self._lease(request) as slot:
                with scope.step():
                    stream = self._services.runner.stream(messages, slot, request.options)
                    updates = aiter(stream)
                started(stream)
                while True:
                    with scope.step():
                        try:
                            update = await anext(updates)
                        except StopAsyncIteration:
                            break
                    for shown in await hook.update(update):
                        yield shown
                for shown in await hook.end():
                    yield shown
                with scope.step():
                    response = await stream.get_final_response()
                result = HostedRunResult(response, session=_session_of(slot, request))
            final = await self._finish(result, request, hooks, channel_name)
        except BaseException as error:
            turn.end(error)
            raise
        turn.end()
        yield final


def _session_of(slot: Any, request: ChannelRequest) -> AgentSession | None:
    """The conversation's agent session for the result: none for a workflow or a keyless run."""
    if request.isolation_key is None or isinstance(slot, WorkflowSlot):
        return None
    return cast("AgentSession", slot)


def _stamped_messages(request: ChannelRequest) -> list[Message]:
    """The input as new messages, the last stamped with the channel and identity.

    The run may change what it is given: the caller's message objects, their contents
    lists and their properties are left as they were.
    """
    messages = [_copied(message) for message in normalize_messages(request.input)]
    if not messages:
        raise ValueError("A run needs at least one input message")
    hosting: dict[str, Any] = {"channel": request.channel}
    if request.identity is not None:
        hosting["identity"] = {
            "channel": request.identity.channel,
            "native_id": request.identity.native_id,
            "attributes": dict(request.identity.attributes),
        }
    messages[-1].additional_properties["hosting"] = hosting
    return messages


def _copied(message: Message) -> Message:
    """A new message like ``message``, with lists and properties of its own."""
    copied = copy.copy(message)
    copied.contents = list(message.contents)
    copied.additional_properties = dict(message.additional_properties or {})
    return copied

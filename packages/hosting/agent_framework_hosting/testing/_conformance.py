"""A behavioural test suite every channel package runs against itself.

Subclass :class:`ChannelConformanceTests` in a channel's tests, implement its four
methods, and pytest collects the inherited tests. Each test starts a real host with the
channel on a loopback port, serving an :class:`Agent` on the offline chat client.

The authentication cases depend on how the channel proves its callers
(:attr:`ChannelConformanceTests.authentication`). A channel that uses the host's
authenticator gets a host with API keys for two principals (:data:`PRINCIPAL_KEYS`);
its turns carry a key as :meth:`~ChannelConformanceTests.credential_headers` say (an
HTTP bearer token by default) on the client of the :class:`RunningHost` they are given.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import threading
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import httpx
import pytest
from agent_framework import Agent, AgentResponse, AgentResponseUpdate, Content, Message

from .._api_keys import ApiKeyAuthenticator
from .._auth import Principal
from .._channel import Channel
from .._hooks import ChannelHooks
from .._host import AgentFrameworkHost
from .._limits import RunLimits
from .._redaction import StreamRedactor
from .._state import StateStore
from .._types import ChannelRequest, HostedRunResult
from ._offline_client import OfflineChatClient
from ._server import LoopbackServer

__all__ = [
    "PRINCIPAL_KEYS",
    "ChannelConformanceTests",
    "ChannelHooks",
    "ChannelReply",
    "RunningHost",
]

SECRET = "internal-detail-7f3a"
"""Text of the injected agent failure; it must never reach a caller."""

PRINCIPAL_KEYS = {"conformance-key-alice": "alice", "conformance-key-bob": "bob"}
"""The API keys of the host the authentication cases start, and the subject each proves."""

ALICE, BOB = PRINCIPAL_KEYS


@dataclass
class ChannelReply:
    """What a caller of the channel saw for one turn."""

    text: str
    """The reply text as the channel finally delivered it."""
    is_error: bool = False
    """Whether the channel answered with its protocol's error."""
    status_code: int = 200
    """The HTTP status of the request that carried the turn."""
    raw: str = ""
    """Everything the caller received, for leak checks."""
    deltas: list[str] = field(default_factory=list[str])
    """Streamed text pieces, in order, when the turn was streamed."""


@dataclass
class RunningHost:
    """A host serving one channel on a loopback port.

    ``client`` carries the credential of ``credential`` (none by default), so a
    :meth:`ChannelConformanceTests.send_turn` that calls through it is authenticated;
    one that uses another client sends ``credential`` its own way.
    """

    host: AgentFrameworkHost
    server: LoopbackServer
    client: httpx.AsyncClient
    credential: str | None = None

    @property
    def base_url(self) -> str:
        """The server's base URL."""
        return self.server.base_url


class ChannelConformanceTests:
    """The behaviour every channel must show; subclass it and fill in four methods."""

    supports_streaming: ClassVar[bool] = True
    """Whether :meth:`send_turn` can stream; streaming tests are skipped otherwise."""
    always_streams: ClassVar[bool] = False
    """Whether every turn streams (a protocol without another answer): hooks see updates."""
    trust_isolation_headers: ClassVar[bool] = False
    """Passed to the host; set it when the channel's continuity relies on those headers."""
    authentication: ClassVar[Literal["host", "channel", "platform"]] = "host"
    """How the channel proves its callers; a subclass gets the authentication cases that apply.

    ``"host"``: with the host's authenticator (``context.caller``); a caller without a
    key, or with a wrong one, is answered ``401``, a run carries its principal, two
    principals never share a conversation, each run is admitted within the host's
    limits. ``"channel"``: by its own means (a webhook secret), so the host's
    authenticator does not apply; a turn from :meth:`send_unauthenticated_turn` is
    answered ``401`` and reaches nothing. ``"platform"``: its only input comes from its
    platform (a bot polling for updates), so no caller can send it anything.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Cases that do not apply are not collected at all (pytest skips None).
        dropped = {
            "host": (),
            "channel": _HOST_AUTHENTICATION_CASES,
            "platform": (*_HOST_AUTHENTICATION_CASES, _UNAUTHENTICATED_CASE),
        }[cls.authentication]
        for name in dropped:
            setattr(cls, name, None)

    def build_channel(self, hooks: ChannelHooks) -> Channel:
        """Return a new channel built with ``hooks``."""
        raise NotImplementedError

    def isolation_key(self, conversation: str) -> str:
        """The isolation key the channel uses for the conversation labelled ``conversation``."""
        raise NotImplementedError

    async def send_turn(
        self, running: RunningHost, text: str, *, conversation: str, stream: bool = False
    ) -> ChannelReply:
        """Send ``text`` as a user turn in ``conversation`` and return what came back."""
        raise NotImplementedError

    async def send_bad_inputs(self, running: RunningHost) -> list[httpx.Response]:
        """Send several malformed requests; return the channel's answers."""
        raise NotImplementedError

    def credential_headers(self, credential: str) -> dict[str, str]:
        """The headers that carry ``credential`` (default: an HTTP bearer token)."""
        return {"Authorization": f"Bearer {credential}"}

    async def send_unauthenticated_turn(
        self, running: RunningHost, text: str, *, conversation: str
    ) -> ChannelReply:
        """Send a turn without the credentials the channel requires.

        By default :meth:`send_turn` on a client without credentials; a channel that
        authenticates by its own means sends its input without them.
        """
        return await self.send_turn(running, text, conversation=conversation)

    @contextlib.asynccontextmanager
    async def calling_as(
        self, running: RunningHost, credential: str
    ) -> AsyncGenerator[RunningHost]:
        """``running`` with a client that carries ``credential``."""
        headers = self.credential_headers(credential)
        async with httpx.AsyncClient(base_url=running.base_url, headers=headers) as client:
            yield dataclasses.replace(running, client=client, credential=credential)

    def build_agent(self, **client_options: Any) -> Agent:
        """The agent under test; override to add tools or instructions."""
        return Agent(client=OfflineChatClient(**client_options), name="conformance")

    def open_state_store(self) -> StateStore | None:
        """A state store for each test's host; ``None`` (the default) keeps it in memory.

        Override it to hold the channel to the kit on another backend (a shared one).
        """
        return None

    def serve(
        self,
        check: Callable[[RunningHost], Awaitable[None]],
        *,
        hooks: ChannelHooks | None = None,
        client_options: dict[str, Any] | None = None,
        authenticated: bool = False,
        limits: RunLimits | None = None,
    ) -> None:
        """Run ``check`` against a host serving the channel on a loopback port.

        With ``authenticated`` the host requires one of :data:`PRINCIPAL_KEYS`. The kit's
        tests are plain functions that run their own event loop, so they need no pytest
        plugin or configuration (pytest-asyncio in any mode, or none).
        """
        host = AgentFrameworkHost(
            self.build_agent(**(client_options or {})),
            channels=[self.build_channel(hooks or ChannelHooks())],
            trust_isolation_headers=self.trust_isolation_headers,
            auth=ApiKeyAuthenticator(PRINCIPAL_KEYS) if authenticated else None,
            limits=limits,
            state_store=self.open_state_store(),
        )

        async def serving() -> None:
            async with _Serving(host) as running:
                await check(running)

        asyncio.run(serving())

    def test_readiness_answers_ok(self) -> None:
        async def check(running: RunningHost) -> None:
            response = await running.client.get("/readiness")
            assert response.status_code == 200
            assert response.text == "ok"

        self.serve(check)

    def test_turn_gets_the_agent_reply(self) -> None:
        async def check(running: RunningHost) -> None:
            reply = await self.send_turn(running, "hello there", conversation="alpha")
            assert not reply.is_error, reply.raw
            assert "Echo: hello there" in reply.text

        self.serve(check)

    def test_same_conversation_continues_its_session(self) -> None:
        async def check(running: RunningHost) -> None:
            await self.send_turn(running, "first", conversation="alpha")
            reply = await self.send_turn(running, "second", conversation="alpha")
            assert "Echo: second (turn 2)" in reply.text

        self.serve(check)

    def test_conversations_are_isolated(self) -> None:
        async def check(running: RunningHost) -> None:
            await self.send_turn(running, "mine", conversation="alpha")
            await self.send_turn(running, "mine again", conversation="alpha")
            reply = await self.send_turn(running, "yours", conversation="beta")
            assert "(turn 1)" in reply.text

        self.serve(check)

    def test_reset_starts_a_new_session(self) -> None:
        async def check(running: RunningHost) -> None:
            await self.send_turn(running, "before", conversation="alpha")
            running.host.reset_session(self.isolation_key("alpha"))
            reply = await self.send_turn(running, "after", conversation="alpha")
            assert "Echo: after (turn 1)" in reply.text

        self.serve(check)

    def test_concurrent_turns_of_one_conversation_are_serialized(self) -> None:
        async def check(running: RunningHost) -> None:
            replies = await asyncio.gather(
                self.send_turn(running, "one", conversation="alpha"),
                self.send_turn(running, "two", conversation="alpha"),
            )
            turns = sorted(reply.text.rsplit("(turn ", 1)[-1] for reply in replies)
            assert turns == ["1)", "2)"]

        self.serve(check, client_options={"delay": 0.02})

    @pytest.mark.parametrize("stream", [False, True])
    def test_hooks_run_in_order_with_their_arguments(self, stream: bool) -> None:
        if stream and not self.supports_streaming:
            pytest.skip("channel does not stream")
        recorded: list[tuple[str, dict[str, Any]]] = []

        def run_hook(request: ChannelRequest, *, target: Any, protocol_request: Any) -> Any:
            recorded.append(("run", {"request": request, "target": target}))
            return request

        async def response_hook(
            result: HostedRunResult, *, request: ChannelRequest, channel_name: str
        ) -> HostedRunResult:
            recorded.append(("response", {"request": request, "channel_name": channel_name}))
            return result

        def stream_update_hook(update: AgentResponseUpdate) -> AgentResponseUpdate:
            recorded.append(("update", {}))
            return update

        async def check(running: RunningHost) -> None:
            reply = await self.send_turn(running, "hooked", conversation="alpha", stream=stream)
            assert not reply.is_error, reply.raw

        self.serve(check, hooks=ChannelHooks(run_hook, response_hook, stream_update_hook))
        kinds = [kind for kind, _ in recorded]
        assert kinds[0] == "run"
        assert kinds[-1] == "response"
        assert ("update" in kinds) == (stream or self.always_streams)
        run_call, response_call = recorded[0][1], recorded[-1][1]
        assert isinstance(run_call["request"], ChannelRequest)
        assert isinstance(run_call["target"], Agent)
        assert isinstance(response_call["request"], ChannelRequest)
        assert response_call["channel_name"] == self.build_channel(ChannelHooks()).name

    def test_run_hook_can_rewrite_the_request(self) -> None:
        def run_hook(request: ChannelRequest, **_: Any) -> ChannelRequest:
            return dataclasses.replace(request, input="rewritten")

        async def check(running: RunningHost) -> None:
            reply = await self.send_turn(running, "original", conversation="alpha")
            assert "Echo: rewritten" in reply.text

        self.serve(check, hooks=ChannelHooks(run_hook=run_hook))

    @pytest.mark.parametrize("stream", [False, True])
    def test_response_hook_redacts_the_final_reply(self, stream: bool) -> None:
        if stream and not self.supports_streaming:
            pytest.skip("channel does not stream")

        async def check(running: RunningHost) -> None:
            reply = await self.send_turn(running, "my secret", conversation="alpha", stream=stream)
            assert "secret" not in reply.text
            assert "[redacted]" in reply.text

        self.serve(check, hooks=ChannelHooks(response_hook=_redact))

    def test_stream_hook_filters_updates_but_not_the_final_reply(self) -> None:
        if not self.supports_streaming:
            pytest.skip("channel does not stream")

        def drop_all(update: AgentResponseUpdate) -> None:
            return None

        async def check(running: RunningHost) -> None:
            reply = await self.send_turn(running, "filtered", conversation="alpha", stream=True)
            assert reply.deltas == []
            assert "Echo: filtered" in reply.text

        self.serve(check, hooks=ChannelHooks(stream_update_hook=drop_all))

    def test_stream_hook_can_rewrite_updates(self) -> None:
        if not self.supports_streaming:
            pytest.skip("channel does not stream")

        def shout(update: AgentResponseUpdate) -> AgentResponseUpdate:
            return AgentResponseUpdate(
                contents=[Content.from_text(text=update.text.upper())], role="assistant"
            )

        async def check(running: RunningHost) -> None:
            reply = await self.send_turn(running, "quiet", conversation="alpha", stream=True)
            assert reply.deltas
            assert "".join(reply.deltas) == "".join(reply.deltas).upper()

        self.serve(check, hooks=ChannelHooks(stream_update_hook=shout))

    def test_a_stream_redactor_lets_no_piece_of_a_split_secret_through(self) -> None:
        if not self.supports_streaming:
            pytest.skip("channel does not stream")
        secret = "internal-alpha-key"
        pieces = {secret[start : start + 3] for start in range(len(secret) - 2)}
        redactor = StreamRedactor(r"internal-[a-z]+-key")

        async def check(running: RunningHost) -> None:
            reply = await self.send_turn(
                running, f"say {secret}", conversation="alpha", stream=True
            )
            assert "Echo: say [redacted]" in reply.text
            # Joined, as a client shows them: no piece may be the start of the secret.
            streamed = "".join(reply.deltas)
            assert [piece for piece in pieces if piece in streamed] == []

        hooks = ChannelHooks(stream_update_hook=redactor, response_hook=redactor.response_hook)
        # One character per streamed update, so the secret is split at every boundary,
        # paced so that a channel showing progress (a message edited in place) shows some.
        self.serve(check, hooks=hooks, client_options={"chunk_chars": 1, "delay": 0.02})

    def test_bad_input_is_a_client_error(self) -> None:
        async def check(running: RunningHost) -> None:
            responses = await self.send_bad_inputs(running)
            assert responses
            for response in responses:
                assert 400 <= response.status_code < 500, response.text
                assert "Traceback" not in response.text
            reply = await self.send_turn(running, "still fine", conversation="alpha")
            assert "Echo: still fine (turn 1)" in reply.text

        self.serve(check)

    def test_an_unknown_path_under_the_channel_is_a_structured_404(self) -> None:
        async def check(running: RunningHost) -> None:
            path = "/" + running.host.channels[0].path.strip("/")
            response = await running.client.get(f"{path.rstrip('/')}/no-such/path%0Ahere")
            assert response.status_code == 404
            assert response.headers["content-type"].startswith("application/json"), response.text

        self.serve(check)

    @pytest.mark.parametrize("stream", [False, True])
    def test_agent_failure_is_a_protocol_error_without_internals(self, stream: bool) -> None:
        if stream and not self.supports_streaming:
            pytest.skip("channel does not stream")

        async def check(running: RunningHost) -> None:
            reply = await self.send_turn(
                running, "fail please", conversation="alpha", stream=stream
            )
            assert reply.is_error
            assert SECRET not in reply.raw
            assert "Traceback" not in reply.raw

        self.serve(check, client_options={"error": RuntimeError(SECRET)})

    def test_a_caller_without_credentials_reaches_nothing(self) -> None:
        runs: list[ChannelRequest] = []

        def run_hook(request: ChannelRequest, **_: Any) -> ChannelRequest:
            runs.append(request)
            return request

        async def check(running: RunningHost) -> None:
            reply = await self.send_unauthenticated_turn(running, "let me in", conversation="alpha")
            assert reply.is_error, reply.raw
            assert reply.status_code == 401, reply.raw
            assert "Traceback" not in reply.raw

        self.serve(check, hooks=ChannelHooks(run_hook=run_hook), authenticated=True)
        assert runs == []

    def test_a_wrong_credential_reaches_nothing(self) -> None:
        runs: list[ChannelRequest] = []

        def run_hook(request: ChannelRequest, **_: Any) -> ChannelRequest:
            runs.append(request)
            return request

        async def check(running: RunningHost) -> None:
            async with self.calling_as(running, "not-a-key") as stranger:
                reply = await self.send_turn(stranger, "let me in", conversation="alpha")
            assert reply.is_error, reply.raw
            assert reply.status_code == 401, reply.raw

        self.serve(check, hooks=ChannelHooks(run_hook=run_hook), authenticated=True)
        assert runs == []

    def test_a_run_carries_its_principal(self) -> None:
        principals: list[Principal | None] = []

        def run_hook(request: ChannelRequest, **_: Any) -> ChannelRequest:
            principals.append(request.principal)
            return request

        async def check(running: RunningHost) -> None:
            async with self.calling_as(running, ALICE) as alice:
                reply = await self.send_turn(alice, "who am I", conversation="alpha")
            assert not reply.is_error, reply.raw

        self.serve(check, hooks=ChannelHooks(run_hook=run_hook), authenticated=True)
        assert [principal.subject if principal else None for principal in principals] == ["alice"]

    def test_two_principals_never_share_a_conversation(self) -> None:

        async def check(running: RunningHost) -> None:
            async with (
                self.calling_as(running, ALICE) as alice,
                self.calling_as(running, BOB) as bob,
            ):
                await self.send_turn(alice, "alice's words", conversation="alpha")
                await self.send_turn(alice, "alice again", conversation="alpha")
                reply = await self.send_turn(bob, "bob's words", conversation="alpha")
                mine = await self.send_turn(alice, "alice last", conversation="alpha")
            assert "Echo: bob's words (turn 1)" in reply.text, reply.raw
            assert "alice" not in reply.raw
            assert "Echo: alice last (turn 3)" in mine.text, mine.raw

        self.serve(check, authenticated=True)

    def test_a_principal_past_its_run_limit_is_refused_and_others_are_not(self) -> None:
        started, release = threading.Event(), threading.Event()
        held: list[bool] = []

        async def run_hook(request: ChannelRequest, **_: Any) -> ChannelRequest:
            if not held:  # the first run waits, holding alice's only place
                held.append(True)
                started.set()
                await asyncio.to_thread(release.wait, 30)
            return request

        async def check(running: RunningHost) -> None:
            async with (
                self.calling_as(running, ALICE) as alice,
                self.calling_as(running, BOB) as bob,
            ):
                first = asyncio.create_task(self.send_turn(alice, "first", conversation="a"))
                try:
                    assert await asyncio.to_thread(started.wait, 30)
                    refused = await self.send_turn(alice, "second", conversation="b")
                    other = await self.send_turn(bob, "bob's", conversation="c")
                finally:
                    release.set()
                assert not (await first).is_error
                again = await self.send_turn(alice, "third", conversation="d")
            assert refused.is_error, refused.raw
            assert refused.status_code == 429, refused.raw
            assert "Echo: bob's" in other.text, other.raw
            assert "Echo: third" in again.text, again.raw

        self.serve(
            check,
            hooks=ChannelHooks(run_hook=run_hook),
            authenticated=True,
            limits=RunLimits(max_concurrent_runs=1),
        )


_HOST_AUTHENTICATION_CASES = (
    "test_a_wrong_credential_reaches_nothing",
    "test_a_run_carries_its_principal",
    "test_two_principals_never_share_a_conversation",
    "test_a_principal_past_its_run_limit_is_refused_and_others_are_not",
)
"""The cases of a channel that authenticates with the host's authenticator."""
_UNAUTHENTICATED_CASE = "test_a_caller_without_credentials_reaches_nothing"


class _Serving:
    """``async with`` block serving a host; the client is closed before the server stops."""

    def __init__(self, host: AgentFrameworkHost) -> None:
        self._server = LoopbackServer(host.app)
        self._host = host
        self._client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> RunningHost:
        self._server.start()
        self._client = httpx.AsyncClient(base_url=self._server.base_url)
        return RunningHost(self._host, self._server, self._client)

    async def __aexit__(self, *exc_info: object) -> None:
        try:
            if self._client is not None:
                await self._client.aclose()
        finally:
            self._server.stop()


def _redact(result: HostedRunResult, **_: Any) -> HostedRunResult:
    redacted = [
        Message(message.role, [message.text.replace("secret", "[redacted]")])
        for message in result.result.messages
    ]
    return result.replace(result=AgentResponse(messages=redacted))

"""Static API keys, the callable adapter, scopes and run limits, over a real server."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from agent_framework import Agent
from agent_framework_hosting import (
    AgentFrameworkHost,
    ApiKeyAuthenticator,
    AuthenticationFailed,
    Authenticator,
    CallableAuthenticator,
    Principal,
    RunLimits,
    TooManyRuns,
    hash_api_key,
)
from agent_framework_hosting._limits import RunLimiter  # pyright: ignore[reportPrivateUsage]
from agent_framework_hosting.testing import LoopbackServer, OfflineChatClient
from echo_channel import EchoChannel
from starlette.requests import HTTPConnection
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect


def serve(auth: Authenticator, **channel: Any) -> LoopbackServer:
    host = AgentFrameworkHost(
        Agent(client=OfflineChatClient()), channels=[EchoChannel(**channel)], auth=auth
    )
    return LoopbackServer(host.app)


def call(server: LoopbackServer, key: str | None, text: str = "hi") -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    return httpx.post(f"{server.base_url}/echo", json={"text": text}, headers=headers)


@pytest.fixture
def keyed() -> Iterator[LoopbackServer]:
    auth = ApiKeyAuthenticator({"key-alice": "alice", hash_api_key("key-bob"): Principal("bob")})
    with serve(auth) as server:
        yield server


def test_a_known_key_is_served(keyed: LoopbackServer) -> None:
    assert call(keyed, "key-alice").json() == {"text": "Echo: hi (turn 1)"}


def test_a_key_given_as_its_digest_is_served(keyed: LoopbackServer) -> None:
    assert call(keyed, "key-bob").status_code == 200


@pytest.mark.parametrize("key", [None, "key-carol", "key-alic", "key-alicee", "KEY-ALICE"])
def test_a_missing_or_unknown_key_is_a_401_with_a_challenge(
    keyed: LoopbackServer, key: str | None
) -> None:
    response = call(keyed, key)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="api"'
    assert response.json()["error"]["code"] == "unauthorized"


def test_another_scheme_carries_no_key(keyed: LoopbackServer) -> None:
    headers = {"Authorization": "Basic a2V5LWFsaWNlOg=="}
    response = httpx.post(f"{keyed.base_url}/echo", json={"text": "x"}, headers=headers)
    assert response.status_code == 401


def test_the_host_own_routes_stay_open(keyed: LoopbackServer) -> None:
    assert httpx.get(f"{keyed.base_url}/readiness").status_code == 200
    assert httpx.get(f"{keyed.base_url}/").status_code == 200


def test_keys_load_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_API_KEYS", "key1=alice, key2=bob")
    auth = ApiKeyAuthenticator.from_env("TEST_API_KEYS")
    with serve(auth) as server:
        assert call(server, "key2").status_code == 200
        assert call(server, "key3").status_code == 401


def test_keys_load_from_a_file_with_digests_and_comments(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text(f"# operators' keys\n\n{hash_api_key('k=1')}=alice\nplain=bob\n")
    with serve(ApiKeyAuthenticator.from_file(keys)) as server:
        assert call(server, "k=1").status_code == 200
        assert call(server, "plain").status_code == 200
        assert call(server, hash_api_key("k=1")).status_code == 401


@pytest.mark.parametrize("text", ["", "key-without-subject", "=alice", "key=", "sha256:abc=alice"])
def test_malformed_key_lists_are_refused(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setenv("TEST_API_KEYS", text)
    with pytest.raises(ValueError, match=r"TEST_API_KEYS|sha256"):
        ApiKeyAuthenticator.from_env("TEST_API_KEYS")


def test_a_callable_proves_callers_its_own_way() -> None:
    async def by_cookie(connection: HTTPConnection) -> Principal | None:
        session = connection.cookies.get("session")
        if session is None:
            return None
        if session != "valid":
            raise AuthenticationFailed("Session expired.", challenge="Cookie")
        return Principal("cookie-user")

    with serve(CallableAuthenticator(by_cookie, challenge="Cookie")) as server:
        url = f"{server.base_url}/echo"
        ok = httpx.post(url, json={"text": "x"}, cookies={"session": "valid"})
        expired = httpx.post(url, json={"text": "x"}, cookies={"session": "old"})
        missing = httpx.post(url, json={"text": "x"})
    assert ok.status_code == 200
    assert (expired.status_code, expired.json()["error"]["message"]) == (401, "Session expired.")
    assert (missing.status_code, missing.headers["www-authenticate"]) == (401, "Cookie")


def test_a_websocket_handshake_without_credentials_is_refused_with_a_401() -> None:
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket

    accepted: list[bool] = []

    class SocketChannel(EchoChannel):
        def contribute(self, context: Any) -> Any:
            async def session(websocket: WebSocket) -> None:
                await context.caller(websocket)
                accepted.append(True)
                await websocket.accept()
                await websocket.close()

            contribution = super().contribute(context)
            routes = [*contribution.routes, WebSocketRoute("/ws", session)]
            return dataclasses.replace(contribution, routes=routes)

    auth = ApiKeyAuthenticator({"key": "alice"})
    host = AgentFrameworkHost(
        Agent(client=OfflineChatClient()), channels=[SocketChannel()], auth=auth
    )
    with LoopbackServer(host.app) as server:
        url = server.base_url.replace("http", "ws") + "/echo/ws"
        with pytest.raises(InvalidStatus) as refused:
            connect(url).close()
        connect(url, additional_headers={"Authorization": "Bearer key"}).close()
    assert refused.value.response.status_code == 401
    assert refused.value.response.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    assert accepted == [True]


def test_limits_count_each_principal_and_kind_apart() -> None:
    limiter = RunLimiter(RunLimits(max_concurrent_runs=1, max_background_runs=1, retry_after=7))
    alice, bob = Principal("alice"), Principal("bob")

    async def check() -> None:
        first = await limiter.admit(alice).acquire()
        background = await limiter.admit(alice, background=True).acquire()
        await limiter.admit(bob).acquire()
        with pytest.raises(TooManyRuns) as refused:
            await limiter.admit(alice).acquire()
        assert refused.value.retry_after == 7
        await first.release()
        await first.release()  # a second release gives nothing more back
        await limiter.admit(alice).acquire()
        with pytest.raises(TooManyRuns):
            await limiter.admit(alice).acquire()
        await background.release()
        await limiter.admit(alice, background=True).acquire()

    asyncio.run(check())


def test_anonymous_callers_are_not_limited() -> None:
    limiter = RunLimiter(RunLimits(max_concurrent_runs=1))

    async def check() -> None:
        for _ in range(3):
            await limiter.admit(None).acquire()

    asyncio.run(check())


@pytest.mark.parametrize(
    "options", [{"max_concurrent_runs": 0}, {"max_background_runs": -1}, {"retry_after": -1}]
)
def test_limits_must_be_positive(options: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="must"):
        RunLimits(**options)

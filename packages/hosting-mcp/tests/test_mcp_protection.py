"""Who may call the endpoint: bearer tokens, resource metadata, session owners, Origin."""

from __future__ import annotations

import httpx
import httpx2
import pytest
from agent_framework_hosting import (
    AuthenticationFailed,
    CallableAuthenticator,
    PermissionDenied,
    Principal,
)
from mcp.shared.exceptions import MCPError
from mcp_harness import INITIALIZE, connect, serving, text_of
from starlette.requests import HTTPConnection

ACCEPT = {"accept": "application/json, text/event-stream"}


class StaticTokens:
    """Bearer tokens mapped to subjects."""

    challenge = 'Bearer realm="mcp"'

    def __init__(self, tokens: dict[str, str]) -> None:
        self.tokens = tokens

    async def authenticate(self, connection: HTTPConnection) -> Principal | None:
        header = connection.headers.get("authorization")
        if header is None:
            return None
        scheme, _, token = header.partition(" ")
        subject = self.tokens.get(token) if scheme.lower() == "bearer" else None
        if subject is None:
            raise AuthenticationFailed(challenge=self.challenge)
        return Principal(subject)


TOKENS = StaticTokens({"alice-token": "alice", "bob-token": "bob"})


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def test_a_call_without_a_token_is_401_pointing_at_the_metadata() -> None:
    async with serving(auth=TOKENS) as served, httpx.AsyncClient() as client:
        response = await client.post(served.url, json=INITIALIZE, headers=ACCEPT)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        'Bearer realm="mcp", resource_metadata='
        f'"{served.server.base_url}/.well-known/oauth-protected-resource/mcp"'
    )
    assert response.json()["error"]["code"] == -32600


async def test_the_metadata_document_names_the_resource_and_its_authorization_servers() -> None:
    async with (
        serving(
            auth=TOKENS, authorization_servers=["https://login.example"], scopes=["agent"]
        ) as served,
        httpx.AsyncClient() as client,
    ):
        unauthorized = await client.post(served.url, json=INITIALIZE, headers=ACCEPT)
        url = unauthorized.headers["www-authenticate"].split('resource_metadata="')[1][:-1]
        document = (await client.get(url)).json()
    assert document == {
        "resource": served.url,
        "authorization_servers": ["https://login.example"],
        "scopes_supported": ["agent"],
        "bearer_methods_supported": ["header"],
        "resource_name": "helper",
    }


async def test_the_host_authenticator_protects_the_endpoint_too() -> None:
    async with serving(host_options={"auth": TOKENS}) as served, httpx.AsyncClient() as client:
        refused = await client.post(served.url, json=INITIALIZE, headers=ACCEPT)
        document = await client.get(
            served.server.base_url + "/.well-known/oauth-protected-resource/mcp"
        )
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == (
        'Bearer realm="mcp", resource_metadata='
        f'"{served.server.base_url}/.well-known/oauth-protected-resource/mcp"'
    )
    assert refused.json()["error"]["message"] == "Missing or invalid credentials."
    assert document.json()["resource"] == served.url


async def test_a_caller_the_authenticator_denies_is_403_as_a_jsonrpc_error() -> None:
    async def deny(connection: HTTPConnection) -> Principal:
        raise PermissionDenied("This endpoint is for staff.")

    async with (
        serving(auth=CallableAuthenticator(deny)) as served,
        httpx.AsyncClient() as client,
    ):
        response = await client.post(served.url, json=INITIALIZE, headers=ACCEPT)
    assert response.status_code == 403
    assert response.json() == {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": -32600, "message": "This endpoint is for staff."},
    }


async def test_an_open_endpoint_serves_no_metadata() -> None:
    async with serving() as served, httpx.AsyncClient() as client:
        response = await client.get(
            served.server.base_url + "/.well-known/oauth-protected-resource/mcp"
        )
    assert response.status_code == 404


async def test_a_wrong_token_is_401() -> None:
    async with (
        serving(auth=TOKENS) as served,
        httpx.AsyncClient(headers=bearer("forged")) as client,
    ):
        response = await client.post(served.url, json=INITIALIZE, headers=ACCEPT)
    assert response.status_code == 401


async def test_the_sdk_client_with_a_token_is_served() -> None:
    async with (
        serving(auth=TOKENS) as served,
        connect(served.url, headers=bearer("alice-token")) as session,
    ):
        result = await session.call_tool("helper", {"message": "hi"})
    assert text_of(result) == "Echo: hi (turn 1)"


async def test_another_callers_session_is_not_found() -> None:
    async with (
        serving(auth=TOKENS) as served,
        connect(served.url, headers=bearer("alice-token")) as _alice,
        httpx.AsyncClient() as client,
    ):
        opened = await client.post(
            served.url, json=INITIALIZE, headers={**ACCEPT, **bearer("alice-token")}
        )
        session_id = opened.headers["mcp-session-id"]
        listed = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
        headers = {**ACCEPT, "mcp-session-id": session_id, "mcp-protocol-version": "2025-11-25"}
        as_bob = await client.post(
            served.url, json=listed, headers={**headers, **bearer("bob-token")}
        )
        as_alice = await client.post(
            served.url, json=listed, headers={**headers, **bearer("alice-token")}
        )
    assert as_bob.status_code == 404
    assert as_bob.json()["error"]["message"] == "Session not found"
    assert as_alice.status_code == 200


async def test_conversation_ids_of_two_callers_are_apart() -> None:
    async with serving(auth=TOKENS) as served:
        async with connect(served.url, headers=bearer("alice-token")) as alice:
            await alice.call_tool("helper", {"message": "mine", "conversation_id": "notes"})
        async with connect(served.url, headers=bearer("bob-token")) as bob:
            result = await bob.call_tool("helper", {"message": "mine?", "conversation_id": "notes"})
    assert text_of(result) == "Echo: mine? (turn 1)"


@pytest.mark.parametrize(
    ("origin", "status"),
    [("http://localhost:5173", 200), ("https://app.example", 403), ("http://evil.example", 403)],
)
async def test_browser_origins_are_checked_against_the_allow_list(origin: str, status: int) -> None:
    async with serving() as served, httpx.AsyncClient() as client:
        response = await client.post(
            served.url, json=INITIALIZE, headers={**ACCEPT, "origin": origin}
        )
    assert response.status_code == status
    if status == 403:
        assert response.json()["error"]["message"] == "Requests from this Origin are not allowed."


async def test_the_allow_list_is_configurable() -> None:
    async with (
        serving(allowed_origins=["https://app.example"]) as served,
        httpx.AsyncClient() as client,
    ):
        allowed = await client.post(
            served.url, json=INITIALIZE, headers={**ACCEPT, "origin": "https://app.example"}
        )
        local = await client.post(
            served.url, json=INITIALIZE, headers={**ACCEPT, "origin": "http://localhost:5173"}
        )
    assert (allowed.status_code, local.status_code) == (200, 403)


async def test_the_sdk_client_without_a_token_fails_to_connect() -> None:
    async with serving(auth=TOKENS) as served:
        with pytest.raises((MCPError, httpx2.HTTPStatusError, ExceptionGroup)):
            async with connect(served.url):
                pass

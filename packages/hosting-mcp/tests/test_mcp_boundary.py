"""Bad input at the endpoint: JSON-RPC errors with a 4xx status, never a 5xx, never plain text."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from mcp_harness import INITIALIZE, serving

ACCEPT = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
VERSION = {"mcp-protocol-version": "2025-11-25"}


async def open_session(client: httpx.AsyncClient, url: str) -> dict[str, str]:
    """Initialize a session; the headers its requests carry."""
    response = await client.post(
        url, json=INITIALIZE, headers={**ACCEPT, "accept": "application/json, text/event-stream"}
    )
    headers = {**ACCEPT, **VERSION, "mcp-session-id": response.headers["mcp-session-id"]}
    await client.post(
        url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers
    )
    return headers


def error_of(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"].startswith(("application/json", "text/event-stream"))
    text = response.text
    if response.headers["content-type"].startswith("text/event-stream"):
        text = next(
            line[5:] for line in text.splitlines() if line.startswith("data:") and line[5:].strip()
        )
    body = json.loads(text)
    assert body["jsonrpc"] == "2.0"
    return body["error"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, -32700),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"x": NaN}}', 400, -32700),
        (b"[" * 100 + b"]" * 100, 400, -32700),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "x", "params": "\\ud800"}', 400, -32700),
        (b'{"id": 1, "method": 7}', 400, -32602),
        (b'["not", "a", "message"]', 400, -32602),
    ],
)
async def test_a_body_that_is_not_a_json_rpc_message_is_a_parse_or_request_error(
    body: bytes, status: int, code: int
) -> None:
    async with serving() as served, httpx.AsyncClient() as client:
        response = await client.post(served.url, content=body, headers=ACCEPT)
    assert response.status_code == status, response.text
    assert error_of(response)["code"] == code


async def test_a_body_over_the_limit_is_413() -> None:
    async with serving(max_body_bytes=1024) as served, httpx.AsyncClient() as client:
        response = await client.post(served.url, content=b" " * 2048, headers=ACCEPT)
    assert response.status_code == 413
    assert error_of(response)["code"] == -32600


async def test_a_body_that_is_not_declared_json_is_415() -> None:
    async with serving() as served, httpx.AsyncClient() as client:
        response = await client.post(
            served.url,
            content=json.dumps(INITIALIZE),
            headers={**ACCEPT, "content-type": "text/plain"},
        )
    assert response.status_code == 415
    assert error_of(response)["code"] == -32600


async def test_a_later_sessionless_protocol_revision_is_refused_naming_the_served_ones() -> None:
    async with serving() as served, httpx.AsyncClient() as client:
        response = await client.post(
            served.url, json=INITIALIZE, headers={**ACCEPT, "mcp-protocol-version": "2026-07-28"}
        )
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == -32022
    assert "2025-11-25" in error["data"]["supported"]


async def test_an_unknown_session_is_404() -> None:
    async with serving() as served, httpx.AsyncClient() as client:
        response = await client.post(
            served.url,
            json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
            headers={**ACCEPT, **VERSION, "mcp-session-id": "no-such-session"},
        )
    assert response.status_code == 404
    assert error_of(response)["message"] == "Session not found"


async def test_a_request_without_its_session_is_400() -> None:
    async with serving() as served, httpx.AsyncClient() as client:
        response = await client.post(
            served.url, json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, headers=ACCEPT
        )
    assert response.status_code == 400
    assert error_of(response)["code"] == -32600


async def test_an_unknown_method_and_an_unknown_tool_are_json_rpc_errors() -> None:
    async with serving() as served, httpx.AsyncClient(timeout=30) as client:
        headers = await open_session(client, served.url)
        method = await client.post(
            served.url, json={"jsonrpc": "2.0", "id": 2, "method": "no/such"}, headers=headers
        )
        tool = await client.post(
            served.url,
            json={"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "nope"}},
            headers=headers,
        )
        bad_params = await client.post(
            served.url,
            json={"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": 5}},
            headers=headers,
        )
    assert error_of(method)["code"] == -32601
    assert error_of(tool) == {"code": -32602, "message": "Unknown tool: nope"}
    assert error_of(bad_params)["code"] == -32602


async def test_a_deleted_session_is_gone() -> None:
    async with serving() as served, httpx.AsyncClient(timeout=30) as client:
        headers = await open_session(client, served.url)
        deleted = await client.delete(served.url, headers=headers)
        after = await client.post(
            served.url, json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, headers=headers
        )
    assert deleted.status_code == 200
    assert after.status_code == 404


async def test_other_methods_and_paths_are_json_rpc_errors() -> None:
    async with serving() as served, httpx.AsyncClient() as client:
        put = await client.put(served.url, content=b"{}", headers=ACCEPT)
        elsewhere = await client.get(served.url + "/elsewhere")
        get_without_sse = await client.get(served.url, headers={"accept": "application/json"})
    for response in (put, elsewhere, get_without_sse):
        assert 400 <= response.status_code < 500, response.text
        assert error_of(response)["code"] == -32600

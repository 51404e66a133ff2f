"""The card, authentication, isolation between principals, restarts, errors on the wire."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from a2a.client import A2AClientError
from a2a.types.a2a_pb2 import (
    GetExtendedAgentCardRequest,
    GetTaskRequest,
    ListTasksRequest,
    TaskState,
)
from a2a.utils.errors import TaskNotFoundError
from a2a_harness import JSONRPC, REST, artifact_text, collect, send_request, serving, user_message
from agent_framework import Agent, tool
from agent_framework_hosting import AuthenticationFailed, Principal
from agent_framework_hosting.testing import OfflineChatClient
from agent_framework_hosting_a2a import A2AChannel
from starlette.requests import HTTPConnection

TOKENS = {"alice-token": "alice", "bob-token": "bob"}


class StaticTokens:
    """Bearer tokens mapped to subjects."""

    challenge = 'Bearer realm="a2a"'

    async def authenticate(self, connection: HTTPConnection) -> Principal | None:
        header = connection.headers.get("authorization", "")
        if not header:
            return None
        subject = TOKENS.get(header.removeprefix("Bearer "))
        if subject is None:
            raise AuthenticationFailed(challenge=self.challenge)
        return Principal(subject=subject)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@tool
def lookup(order: str) -> str:
    """Look an order up."""
    return f"order {order}"


async def test_the_card_describes_the_agent_its_transports_and_skills() -> None:
    agent = Agent(
        client=OfflineChatClient(), name="shop", description="Sells things.", tools=[lookup]
    )
    async with serving(agent) as served:
        card = await served.card()
        async with httpx.AsyncClient() as http:
            under_path = (await http.get(f"{served.url}/.well-known/agent-card.json")).json()
    assert (card.name, card.description) == ("shop", "Sells things.")
    assert [(i.protocol_binding, i.url) for i in card.supported_interfaces] == [
        (JSONRPC, served.url),
        (REST, served.url),
    ]
    assert card.capabilities.streaming
    assert card.capabilities.push_notifications
    assert not card.capabilities.extended_agent_card
    assert [skill.id for skill in card.skills] == ["lookup"]
    assert under_path["name"] == "shop"


async def test_the_card_names_the_security_scheme_and_the_extended_card() -> None:
    async with serving(auth=StaticTokens()) as served:
        card = await served.card()
        async with served.client(headers=bearer("alice-token")) as client:
            extended = await client.get_extended_agent_card(GetExtendedAgentCardRequest())
    assert card.capabilities.extended_agent_card
    assert card.security_schemes["bearer"].http_auth_security_scheme.scheme == "Bearer"
    assert extended.name == card.name


@pytest.mark.parametrize("path", ["/a2a", "/a2a/tasks"])
async def test_a_call_without_credentials_is_401_with_a_challenge(path: str) -> None:
    async with serving(auth=StaticTokens()) as served, httpx.AsyncClient() as http:
        if path == "/a2a":
            response = await http.post(served.base_url + path, json={"jsonrpc": "2.0", "id": 1})
        else:
            response = await http.get(served.base_url + path, headers=bearer("wrong"))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="a2a"'
    assert "error" in response.json()


@pytest.mark.parametrize("transport", [JSONRPC, REST])
async def test_another_principals_task_is_not_found(transport: str) -> None:
    async with serving(auth=StaticTokens()) as served:
        async with served.client(
            transport=transport, streaming=False, headers=bearer("alice-token")
        ) as alice:
            [event] = await collect(alice.send_message(send_request(user_message("mine"))))
            context_id = event.task.context_id
        async with served.client(
            transport=transport, streaming=False, headers=bearer("bob-token")
        ) as bob:
            with pytest.raises(TaskNotFoundError):
                await bob.get_task(GetTaskRequest(id=event.task.id))
            assert list((await bob.list_tasks(ListTasksRequest())).tasks) == []
            same_context = user_message("also mine?", context_id=context_id)
            [theirs] = await collect(bob.send_message(send_request(same_context)))
    assert artifact_text(theirs.task) == "Echo: also mine? (turn 1)"


async def test_a_task_survives_a_restart_with_state_dir(tmp_path: Path) -> None:
    async with serving(state_dir=tmp_path) as served, served.client(streaming=False) as client:
        [event] = await collect(client.send_message(send_request(user_message("remember"))))
    async with serving(state_dir=tmp_path) as served, served.client(streaming=False) as client:
        read = await client.get_task(GetTaskRequest(id=event.task.id))
        again = user_message("and then", context_id=event.task.context_id)
        [next_event] = await collect(client.send_message(send_request(again)))
    assert read.status.state == TaskState.TASK_STATE_COMPLETED
    assert artifact_text(read) == "Echo: remember (turn 1)"
    assert artifact_text(next_event.task) == "Echo: and then (turn 2)"


ERRORS = [
    (b"{not json", -32700, 400),
    (b'[{"jsonrpc": "2.0"}]', -32600, 400),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "message/send"}', -32601, 200),
    (
        b'{"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": {"message": 5}}',
        -32602,
        200,
    ),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": {"id": "nope"}}', -32001, 200),
    (
        b'{"jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": {"historyLength": NaN}}',
        -32700,
        400,
    ),
]


@pytest.mark.parametrize(("body", "code", "status"), ERRORS)
async def test_bad_calls_get_the_specs_json_rpc_codes(body: bytes, code: int, status: int) -> None:
    async with serving() as served, httpx.AsyncClient() as http:
        response = await http.post(
            served.url, content=body, headers={"content-type": "application/json"}
        )
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


async def test_other_a2a_errors_keep_their_codes() -> None:
    async with serving() as served, served.client(streaming=False) as client:
        [event] = await collect(client.send_message(send_request(user_message("done"))))
        async with httpx.AsyncClient() as http:
            cancel = {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "CancelTask",
                "params": {"id": event.task.id},
            }
            not_cancelable = (await http.post(served.url, json=cancel)).json()
            modes = {
                "jsonrpc": "2.0",
                "id": 3,
                "method": "SendMessage",
                "params": {
                    "message": {"messageId": "m", "role": "ROLE_USER", "parts": [{"text": "x"}]},
                    "configuration": {"acceptedOutputModes": ["image/png"]},
                },
            }
            unsupported_type = (await http.post(served.url, json=modes)).json()
            version = await http.post(served.url, json=cancel, headers={"A2A-Version": "0.3"})
    assert not_cancelable["error"]["code"] == -32002
    assert unsupported_type["error"]["code"] == -32005
    assert version.json()["error"]["code"] == -32009


async def test_a_body_over_the_limit_is_413_in_both_shapes() -> None:
    channel = A2AChannel(max_body_bytes=1024)
    async with serving(channel=channel) as served, httpx.AsyncClient() as http:
        big = b'{"x": "' + b"a" * 2048 + b'"}'
        rpc = await http.post(served.url, content=big)
        rest = await http.post(served.url + "/message:send", content=big)
    assert (rpc.status_code, rpc.json()["error"]["code"]) == (413, -32600)
    assert (rest.status_code, rest.json()["error"]["status"]) == (413, "INVALID_ARGUMENT")


async def test_a_wrong_method_on_a_path_is_405_in_the_rest_shape() -> None:
    async with serving() as served, httpx.AsyncClient() as http:
        response = await http.get(served.url)
    assert response.status_code == 405
    assert response.json()["error"]["code"] == 405


async def test_a_json_rpc_client_error_is_no_server_error() -> None:
    async with serving() as served, served.client(streaming=False) as client:
        with pytest.raises((TaskNotFoundError, A2AClientError)):
            await client.get_task(GetTaskRequest(id="\n"))

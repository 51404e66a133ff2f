"""Push notifications: configs through the SDK's client, delivery to a loopback webhook."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from a2a.types.a2a_pb2 import (
    AuthenticationInfo,
    CancelTaskRequest,
    DeleteTaskPushNotificationConfigRequest,
    GetTaskPushNotificationConfigRequest,
    ListTaskPushNotificationConfigsRequest,
    TaskPushNotificationConfig,
)
from a2a.utils.errors import InvalidParamsError
from a2a_harness import JSONRPC, REST, collect, send_request, serving, user_message
from agent_framework_hosting.testing import LoopbackServer, review_workflow
from agent_framework_hosting_a2a import A2AChannel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


class Webhook:
    """A client's webhook on a loopback port; it fails the first ``failures`` deliveries."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.received: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.answered: list[int] = []
        app = Starlette(routes=[Route("/hook", self.hook, methods=["POST"])])
        self.server = LoopbackServer(app)

    async def hook(self, request: Request) -> Response:
        status = 500 if len(self.answered) < self.failures else 200
        self.answered.append(status)
        if status == 200:
            self.received.append((dict(request.headers), json.loads(await request.body())))
        return Response(status_code=status)

    @property
    def url(self) -> str:
        return f"{self.server.base_url}/hook"

    def states(self) -> list[str]:
        return [body["statusUpdate"]["status"]["state"] for _, body in self.received]

    async def until(self, state: str) -> None:
        for _ in range(400):
            if state in self.states():
                return
            await asyncio.sleep(0.025)
        raise AssertionError(f"no {state} notification; got {self.states()}")


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook(failures=1)
    with hook.server:
        yield hook


def fast_retries() -> A2AChannel:
    return A2AChannel(push_allow_private_targets=True, push_backoff_seconds=0.01)


@pytest.mark.parametrize("transport", [JSONRPC, REST])
async def test_push_configs_are_set_read_listed_and_deleted(transport: str) -> None:
    async with serving() as served, served.client(transport=transport, streaming=False) as client:
        [event] = await collect(client.send_message(send_request(user_message("hi"))))
        task_id = event.task.id
        made = await client.create_task_push_notification_config(
            TaskPushNotificationConfig(
                task_id=task_id, id="mine", url="http://127.0.0.1:9/hook", token="t0k"
            )
        )
        read = await client.get_task_push_notification_config(
            GetTaskPushNotificationConfigRequest(task_id=task_id, id="mine")
        )
        listed = await client.list_task_push_notification_configs(
            ListTaskPushNotificationConfigsRequest(task_id=task_id)
        )
        await client.delete_task_push_notification_config(
            DeleteTaskPushNotificationConfigRequest(task_id=task_id, id="mine")
        )
        after = await client.list_task_push_notification_configs(
            ListTaskPushNotificationConfigsRequest(task_id=task_id)
        )
    assert (made.id, made.url, made.token) == ("mine", "http://127.0.0.1:9/hook", "t0k")
    assert read == made
    assert [config.id for config in listed.configs] == ["mine"]
    assert list(after.configs) == []


async def test_status_changes_reach_the_webhook_with_its_token_after_a_retry(
    webhook: Webhook,
) -> None:
    config = TaskPushNotificationConfig(
        url=webhook.url,
        token="client-token",
        authentication=AuthenticationInfo(scheme="Bearer", credentials="hook-secret"),
    )
    async with serving(channel=fast_retries()) as served, served.client(streaming=False) as client:
        request = send_request(user_message("notify me"), task_push_notification_config=config)
        [event] = await collect(client.send_message(request))
        await webhook.until("TASK_STATE_COMPLETED")
    assert webhook.answered[0] == 500
    assert webhook.states() == ["TASK_STATE_WORKING", "TASK_STATE_COMPLETED"]
    headers, body = webhook.received[-1]
    assert headers["x-a2a-notification-token"] == "client-token"
    assert headers["authorization"] == "Bearer hook-secret"
    assert body["statusUpdate"]["taskId"] == event.task.id


async def test_a_config_set_on_a_waiting_task_hears_its_cancel(webhook: Webhook) -> None:
    async with (
        serving(review_workflow, channel=fast_retries()) as served,
        served.client(streaming=False) as client,
    ):
        [event] = await collect(client.send_message(send_request(user_message("draft"))))
        await client.create_task_push_notification_config(
            TaskPushNotificationConfig(task_id=event.task.id, url=webhook.url)
        )
        await client.cancel_task(CancelTaskRequest(id=event.task.id))
        await webhook.until("TASK_STATE_CANCELED")


async def test_a_private_webhook_address_is_refused_unless_allowed() -> None:
    async with serving(channel=A2AChannel()) as served, served.client(streaming=False) as client:
        [event] = await collect(client.send_message(send_request(user_message("hi"))))
        for url in ("http://127.0.0.1:8080/hook", "http://10.0.0.7/hook", "file:///etc/passwd"):
            with pytest.raises(InvalidParamsError):
                await client.create_task_push_notification_config(
                    TaskPushNotificationConfig(task_id=event.task.id, url=url)
                )
        config = TaskPushNotificationConfig(url="http://169.254.169.254/latest")
        with pytest.raises(InvalidParamsError):
            await collect(
                client.send_message(
                    send_request(user_message("x"), task_push_notification_config=config)
                )
            )

"""Push notifications: clients' webhook configs in the state store, delivered with retries.

A task's configs live under ``a2a:push:<task id>`` with the task's partition (a foreign
caller finds none). Each status change of a task is posted to every config's URL as a
``StreamResponse`` holding the status update, with the config's token in
``X-A2A-Notification-Token`` and its authentication as ``Authorization``; the
notifications of one task go out in order. A delivery that fails (no connection, a
``5xx`` or ``429``) is retried with exponential backoff; another ``4xx`` ends it.

A URL must be ``http`` or ``https``; unless the operator allows private targets, its
host must resolve to public addresses only (the SDK's check: no loopback, private,
link-local, shared or reserved address, so a client cannot make the agent call into
its own network). The check runs when a config is set and again before each delivery,
as DNS answers may change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from collections.abc import Mapping
from typing import Any, cast
from urllib.parse import urlsplit

import httpx
from a2a.server.context import ServerCallContext
from a2a.server.tasks.push_notification_config_store import PushNotificationConfigStore
from a2a.types.a2a_pb2 import StreamResponse, TaskPushNotificationConfig
from a2a.utils.errors import InvalidParamsError
from a2a.utils.push_url_validator import validate_push_notification_url
from agent_framework_hosting import StateStore, update_state
from google.protobuf.json_format import MessageToDict, ParseDict

from ._tasks import PARTITION

__all__ = ["PushConfigs", "PushDelivery"]

logger = logging.getLogger("agent_framework.hosting.a2a")

_RETRIED = frozenset({408, 425, 429})


class PushConfigs(PushNotificationConfigStore):
    """The SDK's push config store contract on the host's :class:`StateStore`.

    The caller's partition comes from the call context (``context.state["partition"]``).
    """

    def __init__(self, store: StateStore) -> None:
        self._store = store

    async def set_info(
        self,
        task_id: str,
        notification_config: TaskPushNotificationConfig,
        context: ServerCallContext,
    ) -> TaskPushNotificationConfig:
        """Add or replace a config of the task (its id defaults to a new one)."""
        config = TaskPushNotificationConfig()
        config.CopyFrom(notification_config)
        config.task_id = task_id
        config.tenant = ""
        if not config.id:
            config.id = uuid.uuid4().hex
        partition = _partition(context)
        stored = MessageToDict(config)

        def added(value: Any) -> dict[str, Any]:
            configs = _configs(value, partition)
            kept = [item for item in configs if item.get("id") != config.id]
            return {"partition": partition, "configs": [*kept, stored]}

        await update_state(self._store, _key(task_id), added)
        return config

    async def get_info(
        self, task_id: str, context: ServerCallContext
    ) -> list[TaskPushNotificationConfig]:
        """The task's configs, when the task is the caller's."""
        value = await self._store.get(_key(task_id))
        return [_parsed(item) for item in _configs(value, _partition(context))]

    async def get_info_for_dispatch(self, task_id: str) -> list[TaskPushNotificationConfig]:
        """Every config of the task, to deliver to."""
        value = await self._store.get(_key(task_id))
        if not isinstance(value, Mapping):
            return []
        partition = str(cast("Mapping[str, Any]", value).get("partition", ""))
        return [_parsed(item) for item in _configs(value, partition)]

    async def delete_info(
        self, task_id: str, context: ServerCallContext, config_id: str | None = None
    ) -> None:
        """Remove one config of the task (all of them without ``config_id``)."""
        partition = _partition(context)

        def removed(value: Any) -> Any:
            configs = _configs(value, partition)
            if not configs:
                return value
            kept = [item for item in configs if config_id is not None and item["id"] != config_id]
            return {"partition": partition, "configs": kept}

        await update_state(self._store, _key(task_id), removed)


class PushDelivery:
    """Delivers a task's notifications to its configs' webhooks, in order, with retries.

    Args:
        configs: Where the configs are kept.
        allow_private_targets: Deliver to loopback and private addresses too (a test, or
            a deployment whose clients are all inside its network).
        attempts: Tries per notification and config.
        backoff_seconds: The wait before the first retry; it doubles with each retry.
        timeout_seconds: How long one delivery may take.

    """

    def __init__(
        self,
        configs: PushConfigs,
        *,
        allow_private_targets: bool,
        attempts: int,
        backoff_seconds: float,
        timeout_seconds: float,
    ) -> None:
        self._configs = configs
        self._allow_private = allow_private_targets
        self._attempts = attempts
        self._backoff = backoff_seconds
        self._timeout = timeout_seconds
        self._queues: dict[str, deque[dict[str, Any]]] = {}
        self._workers: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None

    async def check_url(self, url: str) -> None:
        """Refuse a webhook URL the agent must not call.

        Raises:
            InvalidParamsError: The URL is not ``http(s)``, or (unless private targets
                are allowed) its host does not resolve to public addresses only.

        """
        if not await self._allowed(url):
            raise InvalidParamsError(
                "The push notification URL must be http(s) and reach a public address."
            )

    def notify(self, task_id: str, event: StreamResponse) -> None:
        """Queue ``event`` for delivery to every config of the task (after the queued ones)."""
        payload = MessageToDict(event)
        queue = self._queues.get(task_id)
        if queue is not None:
            queue.append(payload)
            return
        self._queues[task_id] = deque([payload])
        worker = asyncio.create_task(self._drain(task_id))
        self._workers.add(worker)
        worker.add_done_callback(self._workers.discard)

    async def aclose(self) -> None:
        """Stop delivering (at shutdown) and close the HTTP client."""
        for worker in list(self._workers):
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()

    async def _drain(self, task_id: str) -> None:
        queue = self._queues[task_id]
        try:
            while queue:
                payload = queue.popleft()
                for config in await self._configs.get_info_for_dispatch(task_id):
                    await self._deliver(config, payload)
        except Exception:
            logger.exception("Push notifications of task %s stopped", task_id)
        finally:
            self._queues.pop(task_id, None)

    async def _deliver(self, config: TaskPushNotificationConfig, payload: dict[str, Any]) -> None:
        if not await self._allowed(config.url):
            logger.warning("Push notification to %s refused: not a public address", config.url)
            return
        headers = {"Content-Type": "application/json"}
        if config.token:
            headers["X-A2A-Notification-Token"] = config.token
        auth = config.authentication
        if config.HasField("authentication") and auth.scheme and auth.credentials:
            headers["Authorization"] = f"{auth.scheme} {auth.credentials}"
        client = self._http()
        for attempt in range(self._attempts):
            if attempt:
                await asyncio.sleep(self._backoff * 2 ** (attempt - 1))
            try:
                response = await client.post(config.url, json=payload, headers=headers)
            except httpx.HTTPError as error:
                logger.info("Push notification to %s failed (%s)", config.url, type(error).__name__)
                continue
            if response.is_success:
                return
            if response.status_code < 500 and response.status_code not in _RETRIED:
                logger.warning(
                    "Push notification to %s refused: %s", config.url, response.status_code
                )
                return
            logger.info("Push notification to %s answered %s", config.url, response.status_code)
        logger.warning(
            "Push notification to %s given up after %s tries", config.url, self._attempts
        )

    async def _allowed(self, url: str) -> bool:
        if self._allow_private:
            with contextlib.suppress(ValueError):
                parts = urlsplit(url)
                return parts.scheme in {"http", "https"} and bool(parts.hostname)
            return False
        return await validate_push_notification_url(url)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout, follow_redirects=False)
        return self._client


def _configs(value: Any, partition: str) -> list[dict[str, Any]]:
    if not isinstance(value, Mapping):
        return []
    fields = cast("Mapping[str, Any]", value)
    if fields.get("partition") != partition:
        return []
    return list(cast("list[dict[str, Any]]", fields.get("configs") or []))


def _parsed(item: Mapping[str, Any]) -> TaskPushNotificationConfig:
    return ParseDict(dict(item), TaskPushNotificationConfig(), ignore_unknown_fields=True)


def _partition(context: ServerCallContext) -> str:
    return str(context.state.get(PARTITION, ""))


def _key(task_id: str) -> str:
    return f"a2a:push:{task_id}"

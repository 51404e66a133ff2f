"""Call the quickstart host as an A2A agent, with the a2a-sdk client.

Discover it by its card; send a message; stream a second turn of the same context;
drop a stream and resubscribe to its task; cancel a task.

    uv run samples/quickstart.py
    uv run samples/a2a_client.py           # in another terminal
"""

from __future__ import annotations

import asyncio
import os
import uuid

import httpx
from a2a.client import A2ACardResolver, Client, ClientConfig, ClientFactory
from a2a.types.a2a_pb2 import (
    CancelTaskRequest,
    GetTaskRequest,
    Message,
    Part,
    Role,
    SendMessageConfiguration,
    SendMessageRequest,
    SubscribeToTaskRequest,
    Task,
    TaskState,
)
from a2a.utils.errors import TaskNotCancelableError, UnsupportedOperationError


def ask(text: str, *, context_id: str = "", immediately: bool = False) -> SendMessageRequest:
    message = Message(
        message_id=uuid.uuid4().hex,
        role=Role.ROLE_USER,
        context_id=context_id,
        parts=[Part(text=text)],
    )
    configuration = SendMessageConfiguration(return_immediately=immediately)
    return SendMessageRequest(message=message, configuration=configuration)


def text_of(task: Task) -> str:
    return "".join(part.text for artifact in task.artifacts for part in artifact.parts)


async def main() -> None:
    base_url = f"http://127.0.0.1:{int(os.environ.get('PORT', '8000'))}"
    async with httpx.AsyncClient(headers={"A2A-Version": "1.0"}, timeout=60) as http:
        card = await A2ACardResolver(http, base_url).get_agent_card()
        abilities = [
            name
            for name, on in (
                ("streaming", card.capabilities.streaming),
                ("push notifications", card.capabilities.push_notifications),
            )
            if on
        ]
        bindings = ", ".join(i.protocol_binding for i in card.supported_interfaces)
        print(f"[card] {card.name}: {', '.join(abilities)}; {bindings}")

        unary = ClientFactory(ClientConfig(httpx_client=http, streaming=False)).create(card)
        streaming = ClientFactory(ClientConfig(httpx_client=http)).create(card)
        await send_and_stream(unary, streaming)
        await resubscribe(streaming)
        await cancel(unary)


async def send_and_stream(unary: Client, streaming: Client) -> None:
    task = Task()
    async for event in unary.send_message(ask("Hello over A2A")):
        task = event.task
        print(f"[send] {TaskState.Name(task.status.state)}: {text_of(task)}")
    print("[stream] ", end="", flush=True)
    async for event in streaming.send_message(ask("And streamed", context_id=task.context_id)):
        if event.HasField("artifact_update"):
            print("".join(p.text for p in event.artifact_update.artifact.parts), end="", flush=True)
    print()


async def resubscribe(streaming: Client) -> None:
    """Leave a stream after its first piece, then pick the task up where it is."""
    story = streaming.send_message(ask("Tell me a short story"))
    task_id = ""
    async for event in story:
        task_id = task_id or event.task.id
        if event.HasField("artifact_update"):
            break
    await story.aclose()  # type: ignore[attr-defined]
    text = ""
    try:
        async for event in streaming.subscribe(SubscribeToTaskRequest(id=task_id)):
            if event.HasField("task"):
                text = text_of(event.task)  # the task as it is: what was streamed so far
            elif event.HasField("artifact_update"):
                text += "".join(p.text for p in event.artifact_update.artifact.parts)
    except UnsupportedOperationError:  # it ended meanwhile: read it instead
        text = text_of(await streaming.get_task(GetTaskRequest(id=task_id)))
    print(f"[resubscribe] {text}")


async def cancel(unary: Client) -> None:
    async for event in unary.send_message(ask("Work on this for a while", immediately=True)):
        try:
            task = await unary.cancel_task(CancelTaskRequest(id=event.task.id))
        except TaskNotCancelableError:  # it ended before the cancel came
            task = await unary.get_task(GetTaskRequest(id=event.task.id))
        print(f"[cancel] {TaskState.Name(task.status.state)}")


if __name__ == "__main__":
    asyncio.run(main())

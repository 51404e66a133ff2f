"""Call the quickstart's AG-UI endpoint from Python, reading events with the protocol's types.

A turn streamed, a second turn of the same thread, a tool call, a run left after three
events and followed again after the last event seen (Last-Event-ID), and the thread's
history. The protocol's Python package (ag-ui-protocol) has the types; httpx carries them.

    uv run samples/quickstart.py          # in one terminal
    uv run samples/ag_ui_client.py        # in another (PORT=... if you changed it)
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
from ag_ui.core import (
    Event,
    RunAgentInput,
    TextMessageContentEvent,
    ToolCallResultEvent,
    ToolCallStartEvent,
    UserMessage,
)
from pydantic import TypeAdapter

EVENT: TypeAdapter[Any] = TypeAdapter(Event)


def run_input(thread_id: str, text: str, run_id: str | None = None) -> dict[str, Any]:
    message = UserMessage(id=str(uuid.uuid4()), content=text)
    run = RunAgentInput(thread_id=thread_id, run_id=run_id or str(uuid.uuid4()), messages=[message])
    return run.model_dump(mode="json", by_alias=True)


def events(response: httpx.Response) -> Iterator[tuple[int, Any]]:
    """Each event of an SSE response, typed, with its id."""
    event_id, data = -1, ""
    for line in response.iter_lines():
        if line.startswith("id: "):
            event_id = int(line[4:])
        elif line.startswith("data: "):
            data = line[6:]
        elif not line and data:
            yield event_id, EVENT.validate_json(data)
            data = ""


def turn(client: httpx.Client, thread_id: str, text: str) -> str:
    with client.stream("POST", "/ag-ui", json=run_input(thread_id, text)) as response:
        response.raise_for_status()
        reply = ""
        for _, event in events(response):
            if isinstance(event, ToolCallStartEvent):
                print(f"[tool] {event.tool_call_name}")
            elif isinstance(event, ToolCallResultEvent):
                print(f"[tool result] {event.content}")
            elif isinstance(event, TextMessageContentEvent):
                reply += event.delta
    return reply


def main() -> None:
    port = int(os.environ.get("PORT", "8000"))
    thread = f"sample-{uuid.uuid4()}"
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        print("[turn]", turn(client, thread, "Hello over AG-UI"))
        print("[turn]", turn(client, thread, "What time is it? Use current_time."))

        # Leave a run after three events, then follow it again from the last one seen.
        run_id = str(uuid.uuid4())
        body = run_input(thread, "Carry on without me", run_id)
        last = -1
        with client.stream("POST", "/ag-ui", json=body) as response:
            for last, _ in events(response):
                if last == 2:
                    break
        headers = {"Last-Event-ID": str(last)}
        with client.stream("GET", f"/ag-ui/runs/{run_id}", headers=headers) as response:
            rest = [event for _, event in events(response)]
        text = "".join(e.delta for e in rest if isinstance(e, TextMessageContentEvent))
        print(f"[resumed after event {last}] {text} ({rest[-1].type.value})")

        history = client.get(f"/ag-ui/threads/{thread}").json()
        roles = " ".join(message["role"] for message in history["messages"])
        print(f"[history] {history['title']}: {roles}")


if __name__ == "__main__":
    main()

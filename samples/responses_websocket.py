"""Talk to the quickstart host over one WebSocket, with the openai SDK.

Turns go one after another on the same connection, each streaming the same events as a
streamed POST. ``store=False`` responses are continued from the connection's own memory,
a refused message is answered with an error event, and the connection carries on.
Needs the SDK's WebSocket support (``pip install 'openai[realtime]'``).

    uv run samples/quickstart.py
    uv run samples/responses_websocket.py      # in another terminal
"""

from __future__ import annotations

import os

from openai import OpenAI
from openai.resources.responses.responses import ResponsesConnection


def run_turn(connection: ResponsesConnection) -> str | None:
    """Print one turn's text as it streams; its response id, or ``None`` if it was refused."""
    print("[ws] ", end="", flush=True)
    for event in connection:
        if event.type == "response.output_text.delta":
            print(event.delta, end="", flush=True)
        elif event.type == "response.completed":
            print(f"  ({event.response.id[:12]}…)")
            return event.response.id
        elif event.type == "error":
            print(f"error {event.status} {event.error.code}: {event.error.message}")
            return None
    raise RuntimeError("the server closed the connection")


def main() -> None:
    port = int(os.environ.get("PORT", "8000"))
    client = OpenAI(base_url=f"http://127.0.0.1:{port}", api_key="unused", max_retries=0)
    # ws://127.0.0.1:<port>/responses: the same path that takes POST /responses.
    with client.responses.connect() as connection:
        connection.response.create(model="agent", input="Hello over a socket")
        first = run_turn(connection)

        # Not stored anywhere: this connection remembers it, so it can be continued here.
        connection.response.create(
            model="agent", input="And once more, unstored", store=False, previous_response_id=first
        )
        unstored = run_turn(connection)

        # An unknown id is refused with previous_response_not_found; the socket stays open.
        connection.response.create(model="agent", input="?", previous_response_id="resp_unknown")
        run_turn(connection)

        connection.response.create(
            model="agent", input="Still here", store=False, previous_response_id=unstored
        )
        run_turn(connection)


if __name__ == "__main__":
    main()

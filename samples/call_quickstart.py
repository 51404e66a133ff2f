"""Call the quickstart host with the openai SDK: a call, follow-ups, a stream, a conversation."""

from __future__ import annotations

import os

from openai import OpenAI


def main() -> None:
    port = int(os.environ.get("PORT", "8000"))
    client = OpenAI(base_url=f"http://127.0.0.1:{port}", api_key="unused", max_retries=0)

    first = client.responses.create(model="agent", input="Hello, who are you?")
    print(f"[{first.status}] {first.output_text}")

    follow_up = client.responses.create(
        model="agent", input="What time is it? Use current_time.", previous_response_id=first.id
    )
    print(f"[{follow_up.status}] {follow_up.output_text}")

    # previous_response_id keeps the conversation going: the offline agent counts turns.
    third = client.responses.create(
        model="agent", input="Thanks!", previous_response_id=follow_up.id
    )
    print(f"[{third.status}] {third.output_text}")

    print("[stream] ", end="", flush=True)
    with client.responses.stream(model="agent", input="Tell me a short story") as stream:
        for event in stream:
            if event.type == "response.output_text.delta":
                print(event.delta, end="", flush=True)
        final = stream.get_final_response()
    print(f"\n[{final.status}] {len(final.output_text)} characters")

    # A conversation keeps the transcript on the server; the items it holds are context.
    conversation = client.conversations.create(
        items=[{"type": "message", "role": "user", "content": "My name is Ada."}],
        metadata={"sample": "quickstart"},
    )
    reply = client.responses.create(
        model="agent", input="Do you remember me?", conversation=conversation.id
    )
    print(f"[conversation] {reply.output_text}")
    items = client.conversations.items.list(conversation.id, order="asc")
    print(f"[conversation] {len(items.data)} items: {[item.type for item in items.data]}")


if __name__ == "__main__":
    main()

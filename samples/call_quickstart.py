"""Call the quickstart host with the openai SDK.

A call, follow-ups, a stream, a background stream resumed after a drop, a compaction,
a stored response retrieved, its input items paged and the response deleted, a background
response polled and one cancelled, and a conversation. QUICKSTART_API_KEY is the key to
send when the quickstart requires keys.
"""

from __future__ import annotations

import os
import time

import openai
from openai import OpenAI
from openai.types.responses import ResponseCompactionItem, ResponseInputParam


def main() -> None:
    port = int(os.environ.get("PORT", "8000"))
    api_key = os.environ.get("QUICKSTART_API_KEY", "unused")
    client = OpenAI(base_url=f"http://127.0.0.1:{port}", api_key=api_key, max_retries=0)

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

    # A background stream outlives its connection: drop it, then resume where it stopped.
    background = client.responses.create(
        model="agent", input="Carry on without me", background=True, stream=True
    )
    first_event = next(iter(background))
    background.close()
    assert first_event.type == "response.created"
    with client.responses.stream(
        response_id=first_event.response.id, starting_after=first_event.sequence_number
    ) as resumed:
        done = resumed.get_final_response()
    print(f"[background] resumed after event {first_event.sequence_number}: {done.output_text}")

    # Compaction folds the conversation so far into one opaque item to continue from.
    compacted = client.responses.compact(model="agent", previous_response_id=third.id)
    carried: ResponseInputParam = [
        {"type": "compaction", "encrypted_content": item.encrypted_content}
        for item in compacted.output
        if isinstance(item, ResponseCompactionItem)
    ]
    carried.append({"role": "user", "content": "Where were we?"})
    after = client.responses.create(model="agent", input=carried)
    print(f"[compaction] {after.output_text}")

    # A stored response can be fetched again by its id, with the input it was given: here
    # the transcript the compaction item stood for, two items a page (the SDK follows
    # `after` from page to page).
    stored = client.responses.retrieve(after.id)
    pages = list(client.responses.input_items.list(after.id, limit=2, order="asc").iter_pages())
    count = sum(len(page.data) for page in pages)
    print(f"[retrieve] {stored.output_text}; {count} input items in {len(pages)} pages")

    # Deleting it forgets it: it can no longer be retrieved, streamed or continued.
    client.responses.delete(after.id)
    try:
        client.responses.retrieve(after.id)
    except openai.NotFoundError as error:
        print(f"[delete] {error.status_code} {error.code}")

    # A background response is answered at once, queued; poll it until it has finished.
    job = client.responses.create(model="agent", input="Work on this later", background=True)
    queued = job.status
    while job.status in ("queued", "in_progress"):
        time.sleep(0.05)
        job = client.responses.retrieve(job.id)
    print(f"[poll] {queued} → {job.status}: {job.output_text}")

    # Cancelling stops a background run still going, and returns it as cancelled; one that
    # has finished comes back as it is. The offline agent is quick, so it has often finished:
    # start the quickstart with OFFLINE_DELAY=1 to catch it running.
    job = client.responses.create(model="agent", input="Never mind", background=True)
    print(f"[cancel] {client.responses.cancel(job.id).status}")

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

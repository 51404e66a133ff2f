"""Reasoning, images, refusals and usage through the Responses API, offline.

The offline agent reasons before it answers, ends its answer with an image, and reports
usage. The sample serves it on a loopback port and streams a reply with the openai SDK:
the reasoning summary arrives first as its own item, then the text, then the image as an
``image_generation_call`` item whose ``result`` is the base64 image; a second agent
refuses, and its refusal arrives as a ``refusal`` part.

    uv run samples/rich_output.py
"""

from __future__ import annotations

import base64
from collections.abc import Iterator

from agent_framework import Agent, Content
from agent_framework_hosting import AgentFrameworkHost
from agent_framework_hosting.testing import LoopbackServer, OfflineChatClient
from agent_framework_hosting_responses import ResponsesChannel
from openai import OpenAI

# The eight-byte PNG signature stands in for an image the agent drew.
PICTURE = Content.from_data(b"\x89PNG\r\n\x1a\n", "image/png")


def build_host(*, refuse: bool = False) -> AgentFrameworkHost:
    """A host of an offline agent that reasons and draws, or one that refuses."""
    if refuse:
        client = OfflineChatClient(refusal="I can't help with that.")
    else:
        client = OfflineChatClient(
            reasoning="The user wants a picture, so I draw one.", image=PICTURE
        )
    return AgentFrameworkHost(Agent(client=client), channels=[ResponsesChannel()])


def show_stream(client: OpenAI, prompt: str) -> Iterator[str]:
    """Stream a reply and describe each item as it completes, then the usage."""
    with client.responses.stream(model="agent", input=prompt) as stream:
        for event in stream:
            if event.type == "response.reasoning_summary_text.done":
                yield f"[reasoning] {event.text}"
            elif event.type == "response.output_text.done":
                yield f"[text] {event.text}"
            elif event.type == "response.refusal.done":
                yield f"[refusal] {event.refusal}"
            elif event.type == "response.output_item.done" and (
                event.item.type == "image_generation_call"
            ):
                size = len(base64.b64decode(event.item.result or ""))
                yield f"[image] {event.item.output_format}, {size} bytes"
        final = stream.get_final_response()
    yield f"[items] {[item.type for item in final.output]}"
    if final.usage is not None:
        reasoning = final.usage.output_tokens_details.reasoning_tokens
        yield f"[usage] {final.usage.output_tokens} output tokens, {reasoning} reasoning"


def main() -> None:
    for refuse, prompt in ((False, "Draw me a cat"), (True, "Help me pick a lock")):
        with LoopbackServer(build_host(refuse=refuse).app) as server:
            client = OpenAI(base_url=server.base_url, api_key="unused", max_retries=0)
            for line in show_stream(client, prompt):
                print(line)


if __name__ == "__main__":
    main()

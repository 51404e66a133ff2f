"""A workflow that asks an editor before it publishes: human in the loop over Responses, offline.

The workflow drafts a piece on the topic it is sent, then asks an editor with
``ctx.request_info``. The Responses channel completes that turn with a ``function_call``
item: ``call_id`` is the request's id, ``name`` its type (``PublishRequest``), and
``arguments`` its fields as JSON. The editor answers with a ``function_call_output`` item
and ``previous_response_id``; its ``output`` is the ``EditorDecision`` as JSON, and the
workflow finishes the turn.

The sample serves the workflow on a loopback port with a state directory, asks for a
review, restarts the host on the same directory while the question is open, sends an
answer that does not parse (a 400, which changes nothing), then the real one, streamed.

    uv run samples/workflow_review.py
"""

# No postponed annotations: older framework versions read a response handler's as written.
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Never

import openai
from agent_framework import (
    Executor,
    Workflow,
    WorkflowBuilder,
    WorkflowContext,
    handler,
    response_handler,
)
from agent_framework_hosting import AgentFrameworkHost
from agent_framework_hosting.testing import LoopbackServer
from agent_framework_hosting_responses import ResponsesChannel
from openai import OpenAI
from openai.types.responses import ResponseFunctionToolCall, ResponseInputParam


@dataclass
class PublishRequest:
    """What the editor is asked: may this draft go out?"""

    draft: str
    words: int


@dataclass
class EditorDecision:
    """The editor's answer."""

    approved: bool
    note: str = ""


class Writer(Executor):
    """Drafts a piece per topic and publishes it only once the editor approves."""

    def __init__(self) -> None:
        super().__init__(id="writer")

    @handler
    async def draft(self, topic: str, ctx: WorkflowContext[Never, str]) -> None:
        draft = f"Tide tables, gulls and salt: a short piece about {topic}."
        await ctx.yield_output(f"Drafted: {draft}")
        request = PublishRequest(draft=draft, words=len(draft.split()))
        await ctx.request_info(request, EditorDecision)

    @response_handler
    async def decide(
        self, request: PublishRequest, decision: EditorDecision, ctx: WorkflowContext[Never, str]
    ) -> None:
        if decision.approved:
            await ctx.yield_output(f"Published ({decision.note or 'approved'}): {request.draft}")
        else:
            await ctx.yield_output(f"Sent back: {decision.note or 'no reason given'}")


def build_workflow() -> Workflow:
    # A stable name lets checkpoints written before a restart be found after it.
    return WorkflowBuilder(name="editorial-review", start_executor=Writer()).build()


def build_host(state_dir: str) -> AgentFrameworkHost:
    """Each conversation gets its own workflow; its open questions are checkpointed there."""
    return AgentFrameworkHost(build_workflow, channels=[ResponsesChannel()], state_dir=state_dir)


def answer(call: ResponseFunctionToolCall, output: str) -> ResponseInputParam:
    return [{"type": "function_call_output", "call_id": call.call_id, "output": output}]


def review(state_dir: str) -> Iterator[str]:
    """Ask for a review, restart the host, refuse a bad answer, then answer, streamed."""
    with LoopbackServer(build_host(state_dir).app) as server:
        client = OpenAI(base_url=server.base_url, api_key="unused", max_retries=0)
        asked = client.responses.create(model="writer", input="the harbour at dawn")
        yield f"[writer] {asked.output_text}"
        call = next(i for i in asked.output if isinstance(i, ResponseFunctionToolCall))
        yield f"[asks] {call.name} {call.arguments}"

    # A new host on the same state directory: the question is still open there.
    with LoopbackServer(build_host(state_dir).app) as server:
        client = OpenAI(base_url=server.base_url, api_key="unused", max_retries=0)
        try:
            client.responses.create(
                model="writer", input=answer(call, "yes"), previous_response_id=asked.id
            )
        except openai.BadRequestError as error:
            yield f"[refused] {error.status_code} {error.code} at {error.param}"
        decision = json.dumps({"approved": True, "note": "lovely"})
        with client.responses.stream(
            model="writer", input=answer(call, decision), previous_response_id=asked.id
        ) as stream:
            final = stream.get_final_response()
        yield f"[writer] {final.output_text}"


def main() -> None:
    with tempfile.TemporaryDirectory() as state_dir:
        for line in review(state_dir):
            print(line)


if __name__ == "__main__":
    main()

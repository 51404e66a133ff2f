"""The two apps a benchmark compares: the host with the Responses channel, and a floor.

The floor is the least a hand-written Starlette endpoint could do with the same agent:
run it, then return an equivalent JSON body or an SSE stream with the same number of
events, built with plain ``json.dumps``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from agent_framework import Agent, AgentSession
from agent_framework_hosting import AgentFrameworkHost
from agent_framework_hosting.testing import OfflineChatClient
from agent_framework_hosting_responses import ResponsesChannel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

CHUNKS = 20
"""Text updates per reply: the streaming case's event count follows from it."""
STREAM_FRAME_EVENTS = 8
"""Events of a Responses stream besides the text deltas (created … completed)."""
PROMPT = (
    "Summarise in one line how a hosting layer should add as little as it can between "
    "a client and the agent it serves, for this benchmark"
)
"""The user message of every benchmark request: the offline client's echo of it has more
than ``CHUNKS`` words, so a streamed reply really is ``CHUNKS`` text updates."""


def agent(delay: float) -> Agent:
    """The agent both apps serve: the offline client, ``CHUNKS`` updates per reply."""
    return Agent(client=OfflineChatClient(chunks=CHUNKS, delay=delay), name="bench")


def host_app(delay: float = 0.0, max_live_sessions: int = 1024) -> Any:
    """The host with the Responses channel, trusting the isolation headers."""
    host = AgentFrameworkHost(
        agent(delay),
        channels=[ResponsesChannel()],
        trust_isolation_headers=True,
        max_live_sessions=max_live_sessions,
    )
    return host.app


def floor_app(delay: float = 0.0, max_live_sessions: int = 1024) -> Any:
    """A bare Starlette endpoint running the same agent."""
    bench_agent = agent(delay)
    sessions: dict[str, AgentSession] = {}

    def session_for(request: Request) -> AgentSession:
        key = request.headers.get("x-agent-chat-isolation-key")
        if key is None:
            return bench_agent.create_session()
        session = sessions.get(key)
        if session is None:
            session = sessions[key] = bench_agent.create_session()
        return session

    async def responses(request: Request) -> Response:
        body = await request.json()
        session = session_for(request)
        response_id = f"resp_{uuid.uuid4().hex}"
        if not body.get("stream"):
            result = await bench_agent.run(body["input"], session=session)
            return JSONResponse(_response(response_id, body, result.text))
        return StreamingResponse(
            _sse(bench_agent, body, session, response_id), media_type="text/event-stream"
        )

    return Starlette(routes=[Route("/responses", responses, methods=["POST"])])


async def _sse(
    bench_agent: Agent, body: dict[str, Any], session: AgentSession, response_id: str
) -> AsyncIterator[str]:
    stream = bench_agent.run(body["input"], stream=True, session=session)
    number = 0
    for kind in (
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ):
        yield _event(kind, number, {"response_id": response_id})
        number += 1
    text: list[str] = []
    async for update in stream:
        if update.text:
            text.append(update.text)
            yield _event("response.output_text.delta", number, {"delta": update.text})
            number += 1
    final = "".join(text)
    for kind in (
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
    ):
        yield _event(kind, number, {"text": final})
        number += 1
    yield _event("response.completed", number, {"response": _response(response_id, body, final)})


def _event(kind: str, number: int, fields: dict[str, Any]) -> str:
    data = json.dumps({"type": kind, "sequence_number": number, **fields}, separators=(",", ":"))
    return f"event: {kind}\ndata: {data}\n\n"


def _response(response_id: str, body: dict[str, Any], text: str) -> dict[str, Any]:
    return {
        "id": response_id,
        "object": "response",
        "created_at": int(time.time()),
        "status": "completed",
        "model": body.get("model", "agent"),
        "output": [
            {
                "type": "message",
                "id": f"msg_{uuid.uuid4().hex}",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }
        ],
    }

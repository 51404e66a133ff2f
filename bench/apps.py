"""The two apps a benchmark compares: the host with the Responses channel, and a floor.

The floor is the least a hand-written Starlette endpoint serving the Responses API could
do with the same agent: run it, then answer with the same wire objects the host sends —
a Response object with every field the schema requires (what an OpenAI SDK client with
strict validation accepts), or an SSE stream of the same events with the same fields —
built as plain dicts and encoded with ``json.dumps``. It validates nothing and keeps
nothing but the agent's sessions of isolation keys.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any

from agent_framework import Agent, AgentResponse, AgentSession
from agent_framework_hosting import AgentFrameworkHost, StateStore
from agent_framework_hosting.testing import OfflineChatClient
from agent_framework_hosting_responses import ResponsesChannel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

CHUNKS = 20
"""Text updates per reply: the streaming case's event count follows from it."""
PROMPT = (
    "Summarise in one line how a hosting layer should add as little as it can between "
    "a client and the agent it serves, for this benchmark"
)
"""The user message of every benchmark request: the offline client's echo of it has more
than ``CHUNKS`` words, so a streamed reply really is ``CHUNKS`` text updates."""


def agent(delay: float) -> Agent:
    """The agent both apps serve: the offline client, ``CHUNKS`` updates per reply."""
    return Agent(client=OfflineChatClient(chunks=CHUNKS, delay=delay), name="bench")


def host_app(
    delay: float = 0.0, max_live_sessions: int = 1024, state_store: StateStore | None = None
) -> Any:
    """The host with the Responses channel, trusting the isolation headers."""
    host = AgentFrameworkHost(
        agent(delay),
        channels=[ResponsesChannel()],
        trust_isolation_headers=True,
        max_live_sessions=max_live_sessions,
        state_store=state_store,
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
            message = _message(f"msg_{uuid.uuid4().hex}", "completed", result.text)
            return JSONResponse(_response(response_id, body, "completed", [message], result))
        return StreamingResponse(
            _sse(bench_agent, body, session, response_id), media_type="text/event-stream"
        )

    return Starlette(routes=[Route("/responses", responses, methods=["POST"])])


async def _sse(
    bench_agent: Agent, body: dict[str, Any], session: AgentSession, response_id: str
) -> AsyncIterator[str]:
    """The events of one streamed reply, each with the fields the Responses schema requires."""
    stream = bench_agent.run(body["input"], stream=True, session=session)
    item_id = f"msg_{uuid.uuid4().hex}"
    at = {"item_id": item_id, "output_index": 0, "content_index": 0}
    started = _response(response_id, body, "in_progress", [])
    yield _event("response.created", 0, {"response": started})
    yield _event("response.in_progress", 1, {"response": started})
    item = _message(item_id, "in_progress", None)
    yield _event("response.output_item.added", 2, {"output_index": 0, "item": item})
    yield _event("response.content_part.added", 3, {**at, "part": _text_part("")})
    number = 4
    text: list[str] = []
    async for update in stream:
        if update.text:
            text.append(update.text)
            delta = {**at, "delta": update.text, "logprobs": []}
            yield _event("response.output_text.delta", number, delta)
            number += 1
    final = "".join(text)
    result = await stream.get_final_response()
    yield _event("response.output_text.done", number, {**at, "text": final, "logprobs": []})
    yield _event("response.content_part.done", number + 1, {**at, "part": _text_part(final)})
    item = _message(item_id, "completed", final)
    yield _event("response.output_item.done", number + 2, {"output_index": 0, "item": item})
    completed = _response(response_id, body, "completed", [item], result)
    yield _event("response.completed", number + 3, {"response": completed})


def _event(kind: str, number: int, fields: dict[str, Any]) -> str:
    data = json.dumps({"type": kind, "sequence_number": number, **fields}, separators=(",", ":"))
    return f"event: {kind}\ndata: {data}\n\n"


def _text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _message(item_id: str, status: str, text: str | None) -> dict[str, Any]:
    """An assistant message item: no content while in progress, one text part after."""
    content = [] if text is None else [_text_part(text)]
    return {
        "type": "message",
        "id": item_id,
        "status": status,
        "role": "assistant",
        "content": content,
    }


def _response(
    response_id: str,
    body: dict[str, Any],
    status: str,
    output: list[dict[str, Any]],
    result: AgentResponse | None = None,
) -> dict[str, Any]:
    """A Response object with every field the schema requires, as the host answers."""
    now = int(time.time())
    usage = result.usage_details if result is not None else None
    return {
        "id": response_id,
        "object": "response",
        "created_at": now,
        "completed_at": now if status == "completed" else None,
        "status": status,
        "incomplete_details": None,
        "model": body.get("model", "agent"),
        "previous_response_id": None,
        "instructions": None,
        "output": output,
        "error": None,
        "tools": [],
        "tool_choice": "auto",
        "truncation": "disabled",
        "parallel_tool_calls": True,
        "text": {"format": {"type": "text"}},
        "top_p": 1.0,
        "presence_penalty": 0.0,
        "frequency_penalty": 0.0,
        "top_logprobs": 0,
        "temperature": 1.0,
        "reasoning": None,
        "usage": _usage(usage) if usage else None,
        "max_output_tokens": None,
        "max_tool_calls": None,
        "store": body.get("store", True),
        "background": False,
        "service_tier": "default",
        "metadata": {},
        "safety_identifier": None,
        "prompt_cache_key": None,
        "user": None,
    }


def _usage(details: Mapping[str, Any]) -> dict[str, Any]:
    input_tokens = int(details.get("input_token_count") or 0)
    output_tokens = int(details.get("output_token_count") or 0)
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens_details": {"reasoning_tokens": 0},
    }

"""A minimal JSON channel for the core's tests: the contract without a real protocol."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from agent_framework import AgentRunInputs
from agent_framework_hosting import (
    AgentFrameworkHost,
    Caller,
    ChannelCommand,
    ChannelCommandContext,
    ChannelContext,
    ChannelContribution,
    ChannelRequest,
    ChannelSession,
    released_after,
)
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route


class EchoChannel:
    """A JSON channel.

    ``POST /`` ``{"text", "key"?, "stream"?}`` answers ``{"text"}``, or when streaming
    newline-delimited ``{"delta"}`` lines then ``{"final"}``; bad input is a 400
    ``{"error"}``, a failed run a 500 ``{"error": "agent failed"}`` (an ``{"error"}`` line
    when streaming). The caller is authenticated first (the host's authenticator, if
    any), its key is a conversation within its partition, and each run is admitted within
    the host's limits. ``POST /command`` ``{"name", "key"?}`` runs the named command from
    ``context.commands`` and answers ``{"replies": [...]}``. ``mounts`` are handed to the
    host as they are (routes at absolute paths).
    """

    def __init__(
        self,
        *,
        name: str = "echo",
        path: str = "/echo",
        run_hook: Any = None,
        response_hook: Any = None,
        stream_update_hook: Any = None,
        commands: Sequence[ChannelCommand] = (),
        on_startup: Sequence[Callable[[], Awaitable[None]]] = (),
        on_shutdown: Sequence[Callable[[], Awaitable[None]]] = (),
        mounts: Mapping[str, Sequence[BaseRoute]] | None = None,
    ) -> None:
        self.name = name
        self.path = path
        self.run_hook = run_hook
        self.response_hook = response_hook
        self.stream_update_hook = stream_update_hook
        self._commands = commands
        self._on_startup = on_startup
        self._on_shutdown = on_shutdown
        self._mounts = mounts or {}
        self.context: ChannelContext | None = None

    def contribute(self, context: ChannelContext) -> ChannelContribution:
        self.context = context

        async def turn(request: Request) -> Response:
            caller = await context.caller(request)
            try:
                body = json.loads(await request.body())
                text, key = body["text"], body.get("key")
                if not isinstance(text, str) or not text:
                    raise ValueError("text")
            except (ValueError, KeyError, TypeError):
                return JSONResponse({"error": "bad request"}, status_code=400)
            run = ChannelRequest(
                channel=self.name,
                operation="message.create",
                input=text,
                session=ChannelSession(isolation_key=_session_key(caller, key)) if key else None,
                stream=bool(body.get("stream")),
                principal=caller.principal,
            )
            admission = await context.admit(caller.principal).acquire()
            if run.stream:
                lines = StreamingResponse(_ndjson(context, run), media_type="application/x-ndjson")
                return released_after(lines, admission)
            try:
                result = await context.run(run, protocol_request=body)
            except Exception:
                return JSONResponse({"error": "agent failed"}, status_code=500)
            finally:
                await admission.release()
            return JSONResponse({"text": result.text})

        async def command(request: Request) -> Response:
            try:
                body = json.loads(await request.body())
                name, key = body["name"], body.get("key")
                if not isinstance(name, str) or not (key is None or isinstance(key, str)):
                    raise TypeError("name")
            except (ValueError, KeyError, TypeError):
                return JSONResponse({"error": "bad request"}, status_code=400)
            replies: list[str] = []

            async def reply(text: str) -> None:
                replies.append(text)

            run = ChannelRequest(
                channel=self.name,
                operation="command.invoke",
                input=name,
                session=ChannelSession(isolation_key=key),
            )
            for candidate in context.commands:
                if candidate.name == name:
                    await candidate.handle(ChannelCommandContext(run, reply))
                    return JSONResponse({"replies": replies})
            return JSONResponse({"error": "unknown command"}, status_code=404)

        return ChannelContribution(
            routes=[
                Route("/", turn, methods=["POST"]),
                Route("/command", command, methods=["POST"]),
            ],
            commands=self._commands,
            on_startup=self._on_startup,
            on_shutdown=self._on_shutdown,
            mounts=self._mounts,
        )


def _session_key(caller: Caller, key: str) -> str:
    """The caller's conversation ``key``, inside its partition (a principal's, if any)."""
    return key if caller.principal is None else f"{quote(key, safe='')}|{caller.partition}"


async def _ndjson(context: ChannelContext, run: ChannelRequest) -> AsyncIterator[bytes]:
    try:
        async with await context.run_stream(run) as stream:
            async for update in stream:
                if update.text:
                    yield json.dumps({"delta": update.text}).encode() + b"\n"
            final = await stream.get_final_response()
    except Exception:
        yield json.dumps({"error": "agent failed"}).encode() + b"\n"
        return
    yield json.dumps({"final": final.text}).encode() + b"\n"


def echo_context(target: Any, **host_options: Any) -> ChannelContext:
    """The context a host of ``target`` hands its echo channel, to run turns directly."""
    channel = EchoChannel()
    assert AgentFrameworkHost(target, channels=[channel], **host_options).app is not None
    assert channel.context is not None
    return channel.context


def echo_turn(input: AgentRunInputs, key: str | None) -> ChannelRequest:
    """A turn of the conversation ``key`` (none: a run without continuity)."""
    return ChannelRequest(
        channel="echo",
        operation="message.create",
        input=input,
        session=ChannelSession(key) if key else None,
    )

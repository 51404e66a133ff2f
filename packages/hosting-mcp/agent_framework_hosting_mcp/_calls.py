"""``tools/list`` and ``tools/call``: the agent tool runs a turn, a command tool a command."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from agent_framework import AgentResponse
from agent_framework_hosting import (
    ISOLATION_KEYS_ATTRIBUTE,
    ChannelCommand,
    ChannelCommandContext,
    ChannelContext,
    ChannelIdentity,
    ChannelRequest,
    ChannelSession,
    ConversationBusy,
    TooManyRuns,
    WorkflowInputError,
)
from mcp.server.context import ServerRequestContext
from mcp.server.streamable_http import MCP_SESSION_ID_HEADER
from mcp.shared.exceptions import MCPError
from mcp_types import (
    INVALID_PARAMS,
    CallToolRequestParams,
    CallToolResult,
    ListToolsResult,
    PaginatedRequestParams,
    TextContent,
)

from ._elicit import Declined, ask, can_elicit, describe_calls
from ._endpoint import caller_of, claim_admission
from ._parse import ToolInputError, parse_tool_input
from ._progress import ProgressReporter
from ._render import error_result, pending_calls, streamed_text, tool_result
from ._runs import CallRuns
from ._sessions import conversation_key
from ._tools import ToolNames, agent_tool, command_tools

__all__ = ["ToolCalls"]

logger = logging.getLogger("agent_framework.hosting.mcp")

AGENT_FAILED = "The agent failed to answer this call. Try again later."
BUSY = "This conversation is answering another call; try again when it has finished."
MAX_ROUNDS = 16
"""The most times one call answers a workflow's questions and resumes it."""


class ToolCalls:
    """The server's tool handlers for one host."""

    def __init__(
        self,
        context: ChannelContext,
        names: ToolNames,
        *,
        channel_name: str,
        progress_interval: float,
        runs: CallRuns,
    ) -> None:
        self._runs = runs
        self._context = context
        self._names = names
        self._channel = channel_name
        self._progress_interval = progress_interval

    async def list_tools(
        self, ctx: ServerRequestContext[Any], params: PaginatedRequestParams | None
    ) -> ListToolsResult:
        """The agent tool, then a tool per host command."""
        tools = [agent_tool(self._names), *command_tools(self._context.commands, self._names.name)]
        return ListToolsResult(tools=tools)

    async def call_tool(
        self, ctx: ServerRequestContext[Any], params: CallToolRequestParams
    ) -> CallToolResult:
        """Run a turn (the agent tool) or a command (a command tool).

        Raises:
            MCPError: No tool has that name (``INVALID_PARAMS``).

        """
        if params.name == self._names.name:
            return await self._admitted_turn(ctx, params)
        command = self._command(params.name)
        if command is None:
            raise MCPError(code=INVALID_PARAMS, message=f"Unknown tool: {params.name}")
        try:
            return await self._command_call(ctx, command, params)
        except Exception:  # the SDK would answer the exception's text: keep it in the log
            logger.exception("Command %s failed", command.name)
            return error_result(f"The {command.name} command failed. Try again later.")

    async def _admitted_turn(
        self, ctx: ServerRequestContext[Any], params: CallToolRequestParams
    ) -> CallToolResult:
        """A turn holding its caller's place within the run limits until it has ended."""
        admission = claim_admission(ctx.request)
        if admission is None:  # the endpoint took none, or its request ended first
            try:
                admission = await self._context.admit(caller_of(ctx.request).principal).acquire()
            except TooManyRuns as error:
                return error_result(error.message)
        try:
            session_id = _session_id(ctx)
            if session_id is None or ctx.request_id is None:
                return await self._turn(ctx, params)
            try:
                return await self._runs.run(
                    session_id, ctx.request_id, lambda: self._turn(ctx, params)
                )
            except RuntimeError:  # a call with this request id runs already
                return error_result("A call with this request id is running already.")
        finally:
            # The call's run has ended here, however: done, failed, cancelled, stopped.
            await admission.release()

    def _command(self, name: str) -> ChannelCommand | None:
        tools = {tool.name for tool in command_tools(self._context.commands, self._names.name)}
        return next((c for c in self._context.commands if c.name == name and name in tools), None)

    async def _turn(
        self, ctx: ServerRequestContext[Any], params: CallToolRequestParams
    ) -> CallToolResult:
        try:
            turn = parse_tool_input(params.arguments)
        except ToolInputError as error:
            return error_result(str(error))
        request = self._request(ctx, turn.conversation_id, turn.messages, "message.create")
        responses: list[AgentResponse] = []
        for _ in range(MAX_ROUNDS):
            try:
                await self._context.check_input(request)
                response = await self._run(ctx, request, params)
            except WorkflowInputError as error:
                return error_result(f"{error} Or {self._start_over()}.")
            except ConversationBusy:
                return error_result(BUSY)
            except Exception:  # the cause is logged; the caller learns nothing internal
                logger.exception("A call of %s failed", self._names.name)
                return error_result(AGENT_FAILED)
            responses.append(response)
            calls = pending_calls(response)
            if not calls:
                return tool_result(responses)
            if not can_elicit(ctx.session):
                return error_result(
                    "The workflow needs input before it can go on, and this client does not "
                    f"answer elicitation requests. Waiting for: {describe_calls(calls)}. Call "
                    f"{self._names.name} again in this conversation with 'answers' (an object "
                    f"of answers by call id), or {self._start_over()}."
                )
            try:
                answers = await ask(ctx.session, calls, _request_id(ctx))
            except Declined:
                return error_result(
                    "The question was not answered; the workflow is still waiting for: "
                    f"{describe_calls(calls)}. Answer with 'answers' in a call of "
                    f"{self._names.name}, or {self._start_over()}."
                )
            request = dataclasses.replace(request, input=[answers])
        return error_result("The workflow asked more questions than one call answers.")

    async def _run(
        self,
        ctx: ServerRequestContext[Any],
        request: ChannelRequest,
        params: CallToolRequestParams,
    ) -> AgentResponse:
        token = params.meta.get("progress_token") if params.meta is not None else None
        if token is None:
            return (await self._context.run(request, protocol_request=params)).result
        reporter = ProgressReporter(ctx.session, interval=self._progress_interval)
        streamed = dataclasses.replace(request, stream=True)
        async with await self._context.run_stream(streamed, protocol_request=params) as stream:
            async for update in stream:
                if text := streamed_text(update):
                    await reporter.add(text)
            result = await stream.get_final_response()
        await reporter.flush()
        return result.result

    async def _command_call(
        self,
        ctx: ServerRequestContext[Any],
        command: ChannelCommand,
        params: CallToolRequestParams,
    ) -> CallToolResult:
        arguments = dict(params.arguments or {})
        conversation_id = arguments.pop("conversation_id", None)
        if arguments or not (conversation_id is None or isinstance(conversation_id, str)):
            return error_result("A command takes only an optional 'conversation_id' string.")
        request = self._request(ctx, conversation_id, f"/{command.name}", "command.invoke")
        replies: list[str] = []

        async def reply(text: str) -> None:
            replies.append(text)

        await command.handle(ChannelCommandContext(request, reply, self._context))
        return CallToolResult(content=[TextContent(type="text", text="\n".join(replies))])

    def _request(
        self,
        ctx: ServerRequestContext[Any],
        conversation_id: str | None,
        input: Any,
        operation: str,
    ) -> ChannelRequest:
        caller = caller_of(ctx.request)
        session_id = _session_id(ctx)
        key = conversation_key(
            caller.partition, session_id=session_id, conversation_id=conversation_id
        )
        who = caller.principal.subject if caller.principal is not None else session_id
        return ChannelRequest(
            channel=self._channel,
            operation=operation,
            input=input,
            session=ChannelSession(isolation_key=key) if key is not None else None,
            identity=ChannelIdentity(self._channel, who or "anonymous"),
            principal=caller.principal,
            attributes={ISOLATION_KEYS_ATTRIBUTE: caller.keys},
            metadata={"mcp_session_id": session_id} if session_id else {},
        )

    def _start_over(self) -> str:
        names = {c.name for c in command_tools(self._context.commands, self._names.name)}
        return "call reset to start over" if "reset" in names else "name a new conversation_id"


def _session_id(ctx: ServerRequestContext[Any]) -> str | None:
    headers: Any = getattr(ctx.request, "headers", None)
    return headers.get(MCP_SESSION_ID_HEADER) if headers is not None else None


def _request_id(ctx: ServerRequestContext[Any]) -> Any:
    if ctx.request_id is None:  # pragma: no cover - a tools/call is a request
        raise RuntimeError("A tool call without a request id")
    return ctx.request_id

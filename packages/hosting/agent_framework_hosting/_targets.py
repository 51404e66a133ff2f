"""The one place that invokes the target: an agent, or a workflow per conversation."""

from __future__ import annotations

import copy
import inspect
import re
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, Protocol, cast

from agent_framework import (
    AgentResponse,
    AgentResponseUpdate,
    AgentSession,
    CheckpointStorage,
    InMemoryCheckpointStorage,
    Message,
    SupportsAgentRun,
    Workflow,
    WorkflowRunResult,
    normalize_tools,
)

from ._checkpoints import ConversationCheckpoints
from ._framework import restore_checkpoint
from ._sessions import SlotCodec
from ._workflow_requests import pending_requests, request_calls, workflow_answers
from ._workflow_updates import WorkflowTurnResponse, updates_from_event

__all__ = [
    "AgentRunner",
    "TargetInfo",
    "TargetRunner",
    "WorkflowRunner",
    "WorkflowSlot",
    "describe_target",
    "is_agent",
]

_CHECKPOINTS_KEPT = 2

SlotLease = Callable[[], AbstractAsyncContextManager[Any]]
"""Leases the conversation's state exclusively, for as long as the block runs."""


_ACCEPTED = (
    "AgentFrameworkHost serves an agent (an object with run() and create_session(), such "
    "as agent_framework.Agent), a Workflow, or a zero-argument factory returning a new "
    "Workflow"
)


class TargetInfo(NamedTuple):
    """What a host serves: an agent or a workflow, and the name it goes by."""

    kind: Literal["agent", "workflow"]
    name: str
    """The agent's or workflow's own name; ``agent`` or ``workflow`` when it has none."""


_GENERATED_NAME = re.compile(r"WorkflowBuilder-[0-9a-f-]{36}")
"""The name the framework makes up for a workflow built without one (new on every build)."""


def describe_target(target: object) -> TargetInfo:
    """Whether ``target`` is served as an agent or as a workflow, and its name.

    A factory is called once, here, to check that it returns a ``Workflow``.

    Raises:
        TypeError: ``target`` is none of those; the message names what is accepted and,
            for the usual mistakes (a name, a chat client, a factory returning an agent),
            what to pass instead.

    """
    if is_agent(target):
        return TargetInfo("agent", _name_or(getattr(target, "name", None), "agent"))
    if isinstance(target, Workflow):
        return TargetInfo("workflow", _workflow_name(target))
    if isinstance(target, type):
        raise TypeError(f"{_ACCEPTED}; got the class {target.__name__}: pass an instance.")
    if callable(target):
        return TargetInfo("workflow", _workflow_name(_built_by(target)))
    raise TypeError(f"{_ACCEPTED}; got {_described(target)}.")


def _name_or(name: object, default: str) -> str:
    return name if isinstance(name, str) and name else default


def _workflow_name(workflow: Workflow) -> str:
    name = _name_or(workflow.name, "workflow")
    return "workflow" if _GENERATED_NAME.fullmatch(name) else name


def is_agent(target: object) -> bool:
    """Whether ``target`` is served as an agent: it has ``run`` and ``create_session``."""
    if isinstance(target, type):
        return False
    return isinstance(target, SupportsAgentRun) or (
        callable(getattr(target, "run", None)) and callable(getattr(target, "create_session", None))
    )


def _built_by(factory: Callable[..., object]) -> Workflow:
    """What ``factory`` builds, when that is a ``Workflow``."""
    try:
        inspect.signature(factory).bind()
    except TypeError:
        raise TypeError(
            f"{_ACCEPTED}; got {_name_of(factory)}, which cannot be called without arguments."
        ) from None
    except ValueError:  # no signature to inspect (some builtins): calling it tells
        pass
    built = factory()
    if isinstance(built, Workflow):
        return built
    if inspect.iscoroutine(built):
        built.close()
        raise TypeError(
            f"{_ACCEPTED}; {_name_of(factory)} is a coroutine function: a factory must "
            "return the Workflow itself, not a coroutine."
        )
    if is_agent(built):
        raise TypeError(
            f"{_ACCEPTED}; {_name_of(factory)} returned an agent ({type(built).__name__}). "
            "Pass the agent itself: AgentFrameworkHost(agent, channels=[...])."
        )
    raise TypeError(f"{_ACCEPTED}; {_name_of(factory)} returned {_described(built)}.")


def _described(value: object) -> str:
    """What ``value`` is, with what to pass instead when it is a usual mistake."""
    if value is None:
        return "None"
    if isinstance(value, str):
        return f"the string {value!r}: pass the agent object itself, not its name"
    if callable(getattr(value, "get_response", None)):
        return (
            f"a chat client ({type(value).__name__}): wrap it in an agent, "
            "Agent(client=..., instructions=...)"
        )
    return f"{type(value).__name__} {value!r:.80}"


def _name_of(factory: Callable[..., object]) -> str:
    name = getattr(factory, "__qualname__", None) or type(factory).__name__
    return "a lambda" if name.endswith("<lambda>") else f"the callable {name}"


class UpdateStream(Protocol):
    """A stream of updates whose final response is available once it ends."""

    def __aiter__(self) -> AsyncIterator[AgentResponseUpdate]: ...

    async def get_final_response(self) -> AgentResponse: ...


class TargetRunner(Protocol):
    """Runs the target for one turn against the state of one conversation."""

    takes_options: bool
    """Whether a run's chat options (sampling, tools, tool mode) reach the target."""

    def codec(self) -> SlotCodec[Any]:
        """How this target's per-conversation state is created and snapshotted."""
        ...

    def fresh_slot(self) -> Any:
        """State for a run that keeps no continuity."""
        ...

    def tool_names(self) -> frozenset[str]:
        """The names of the function tools the target brings to every run itself."""
        ...

    async def check(self, messages: list[Message], lease: SlotLease) -> None:
        """Raise when ``messages`` cannot start a turn of the conversation; nothing runs."""
        ...

    async def run(
        self, messages: list[Message], slot: Any, options: Mapping[str, Any] | None
    ) -> AgentResponse:
        """Run one turn to completion."""
        ...

    def stream(
        self, messages: list[Message], slot: Any, options: Mapping[str, Any] | None
    ) -> UpdateStream:
        """Run one turn, streaming its updates."""
        ...


class AgentRunner:
    """Runs an agent with the conversation's :class:`AgentSession`."""

    takes_options = True

    def __init__(self, agent: SupportsAgentRun) -> None:
        self.agent = agent

    def codec(self) -> SlotCodec[AgentSession]:
        """Sessions come from the agent and snapshot through ``to_dict``/``from_dict``.

        A conversation's session is created with the conversation's slot key as its
        ``session_id`` (see :func:`slot_key`), never a random one.
        """
        return SlotCodec(
            create=lambda slot_key: self.agent.create_session(session_id=slot_key),
            snapshot=lambda session: session.to_dict(),
            restore=AgentSession.from_dict,
        )

    def fresh_slot(self) -> None:
        """No session for a run without continuity: the agent runs with ``session=None``."""
        return None

    def tool_names(self) -> frozenset[str]:
        """The agent's own tools, and its MCP servers' tools once they are connected.

        A run's options must not declare a tool under one of these names: the framework
        refuses a duplicate name when it runs the agent.
        """
        options: object = getattr(self.agent, "default_options", None)
        configured: Any = None
        if isinstance(options, Mapping):
            configured = cast("Mapping[str, Any]", options).get("tools")
        tools: list[object] = list(normalize_tools(configured))
        servers: object = getattr(self.agent, "mcp_tools", None)
        for server in cast("list[object]", servers) if isinstance(servers, list) else []:
            tools.extend(getattr(server, "functions", None) or [])
        return frozenset(name for name in map(_tool_name, tools) if name)

    async def check(self, messages: list[Message], lease: SlotLease) -> None:
        """An agent takes any input: nothing to check, and no session to lease for it."""

    async def run(
        self,
        messages: list[Message],
        slot: AgentSession | None,
        options: Mapping[str, Any] | None,
    ) -> AgentResponse:
        """Run the agent once."""
        return await self.agent.run(_agent_input(messages), **_run_kwargs(slot, options))

    def stream(
        self,
        messages: list[Message],
        slot: AgentSession | None,
        options: Mapping[str, Any] | None,
    ) -> UpdateStream:
        """Stream one agent run."""
        return self.agent.run(_agent_input(messages), stream=True, **_run_kwargs(slot, options))


def _agent_input(messages: list[Message]) -> Message | list[Message]:
    """A turn of one message is passed as that message, as agents have always been given it."""
    return messages[0] if len(messages) == 1 else messages


def _tool_name(tool: object) -> str | None:
    """A tool's name: a tool object's ``name``, or a function tool declared as a dict."""
    if isinstance(tool, Mapping):
        fields = cast("Mapping[str, Any]", tool)
        function: object = fields.get("function")
        if isinstance(function, Mapping):
            fields = cast("Mapping[str, Any]", function)
        elif fields.get("type") != "function":
            return None
        name: object = fields.get("name")
    else:
        name = getattr(tool, "name", None)
    return name if isinstance(name, str) else None


def _run_kwargs(session: AgentSession | None, options: Mapping[str, Any] | None) -> dict[str, Any]:
    """``session`` (when the run has one) and ``options`` (when any) for ``agent.run``."""
    kwargs: dict[str, Any] = {} if session is None else {"session": session}
    if options:
        kwargs["options"] = dict(options)
    return kwargs


@dataclass(slots=True)
class WorkflowSlot:
    """One conversation's own workflow instance and checkpoint storage."""

    workflow: Workflow
    checkpoints: CheckpointStorage
    resumed: bool = False

    async def resume(self) -> None:
        """Restore the conversation's latest checkpoint into a new instance, once.

        A conversation whose instance was evicted, or that outlived a restart, continues
        from its own state rather than from a blank workflow.
        """
        if self.resumed:
            return
        self.resumed = True
        latest = await self.checkpoints.get_latest(workflow_name=self.workflow.name)
        if latest is not None:
            await restore_checkpoint(self.workflow, latest.checkpoint_id, self.checkpoints)


class WorkflowRunner:
    """Runs a workflow with a private instance per conversation.

    ``target`` is a :class:`Workflow` (copied per conversation, never run itself) or a
    zero-argument factory returning a new one. Each conversation checkpoints into its own
    storage, which ``checkpoints`` hands out (in memory by default).

    Requests the workflow makes with ``ctx.request_info`` and leaves pending end the turn's
    response as ``function_call`` contents; the next turn answers them with
    ``function_result`` contents (see ``_workflow_requests``). A turn's response is a
    :class:`WorkflowTurnResponse`, which also answers for the framework's run result.
    """

    takes_options = False
    """A workflow's agents run with their own options; a turn cannot pass any."""

    def __init__(
        self,
        target: Workflow | Callable[[], Workflow],
        *,
        checkpoints: ConversationCheckpoints | None = None,
    ) -> None:
        self._factory = _workflow_factory(target)
        self._checkpoints = checkpoints or ConversationCheckpoints()

    def codec(self) -> SlotCodec[WorkflowSlot]:
        """Workflow state persists through checkpoints, not snapshots."""
        return SlotCodec(create=self._new_slot)

    def fresh_slot(self) -> WorkflowSlot:
        """A private instance for a run without continuity."""
        return WorkflowSlot(self._factory(), InMemoryCheckpointStorage(), resumed=True)

    def tool_names(self) -> frozenset[str]:
        """None: a workflow's agents keep their tools to themselves."""
        return frozenset()

    def _new_slot(self, slot_key: str) -> WorkflowSlot:
        workflow = self._factory()
        return WorkflowSlot(workflow, self._checkpoints.for_conversation(slot_key, workflow))

    async def check(self, messages: list[Message], lease: SlotLease) -> None:
        """Check the turn against the conversation's pending requests, without running it."""
        async with lease() as slot:
            await _start(cast("WorkflowSlot", slot), messages)

    async def run(
        self, messages: list[Message], slot: WorkflowSlot, options: Mapping[str, Any] | None
    ) -> AgentResponse:
        """Run the workflow until it is idle: its outputs, then the requests it left pending."""
        start = await _start(slot, messages)
        result = await slot.workflow.run(**start, checkpoint_storage=slot.checkpoints)
        await _prune(slot)
        updates = [update for event in result for update in updates_from_event(event)]
        updates.extend(await _pending_updates(slot))
        return WorkflowTurnResponse.of_turn(updates, result)

    def stream(
        self, messages: list[Message], slot: WorkflowSlot, options: Mapping[str, Any] | None
    ) -> UpdateStream:
        """Stream the workflow's outputs as agent updates, then the requests it left pending."""
        return _WorkflowUpdateStream(slot, messages)


class _WorkflowUpdateStream:
    def __init__(self, slot: WorkflowSlot, messages: list[Message]) -> None:
        self._slot = slot
        self._messages = messages
        self._updates: list[AgentResponseUpdate] = []
        self._result: WorkflowRunResult | None = None

    async def __aiter__(self) -> AsyncIterator[AgentResponseUpdate]:
        start = await _start(self._slot, self._messages)
        events = self._slot.workflow.run(
            **start, stream=True, checkpoint_storage=self._slot.checkpoints
        )
        async for event in events:
            for update in updates_from_event(event):
                self._updates.append(update)
                yield update
        self._result = await events.get_final_response()
        await _prune(self._slot)
        for update in await _pending_updates(self._slot):
            self._updates.append(update)
            yield update

    async def get_final_response(self) -> AgentResponse:
        return WorkflowTurnResponse.of_turn(self._updates, self._result)


def _workflow_factory(target: Workflow | Callable[[], Workflow]) -> Callable[[], Workflow]:
    if not isinstance(target, Workflow):
        return target
    try:
        copy.deepcopy(target)
    except Exception as exc:
        raise TypeError(
            "This workflow cannot be copied per conversation; pass a zero-argument factory "
            "instead: AgentFrameworkHost(target=lambda: build_workflow(), ...)"
        ) from exc
    return lambda: copy.deepcopy(target)


def _workflow_input(workflow: Workflow, messages: list[Message]) -> Any:
    """Shape the turn's messages as the start executor's declared input type."""
    accepted = [str(t) for t in workflow.get_start_executor().input_types]
    if any("list[" in t and "Message" in t for t in accepted):
        return messages
    last = messages[-1] if messages else Message("user", [""])
    if any(t.endswith("Message'>") or t.endswith(".Message") for t in accepted):
        return last
    return last.text


async def _start(slot: WorkflowSlot, messages: list[Message]) -> dict[str, Any]:
    """How the turn starts the workflow: answers to its pending requests, or a new message.

    Raises:
        WorkflowInputError: The input does not fit the workflow's pending requests.

    """
    await slot.resume()
    answers = workflow_answers(messages, await pending_requests(slot.workflow))
    if answers is not None:
        return {"responses": answers}
    return {"message": _workflow_input(slot.workflow, messages)}


async def _pending_updates(slot: WorkflowSlot) -> list[AgentResponseUpdate]:
    """One update with a call per request the workflow left pending, or none."""
    calls = request_calls(await pending_requests(slot.workflow))
    return [AgentResponseUpdate(contents=calls, role="assistant")] if calls else []


async def _prune(slot: WorkflowSlot) -> None:
    """Keep only the newest checkpoints of a conversation."""
    name = slot.workflow.name
    checkpoints = await slot.checkpoints.list_checkpoints(workflow_name=name)
    checkpoints.sort(key=lambda checkpoint: checkpoint.timestamp)
    for stale in checkpoints[:-_CHECKPOINTS_KEPT]:
        await slot.checkpoints.delete(stale.checkpoint_id)

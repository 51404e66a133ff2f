"""The tools the server lists: the agent tool, and a tool per host command."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from agent_framework_hosting import ChannelCommand
from mcp_types import Tool, ToolAnnotations

from ._parse import MAX_CONVERSATION_ID_CHARS, agent_tool_schema

__all__ = ["ToolNames", "agent_tool", "command_tools", "tool_name_for"]

_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9_.-]+")
_MAX_NAME = 64


def tool_name_for(name: str) -> str:
    """A tool name MCP accepts (letters, digits, ``_``, ``-``, ``.``) made from ``name``."""
    cleaned = _NOT_ALLOWED.sub("_", name).strip("_")[:_MAX_NAME]
    return cleaned or "agent"


@dataclass(frozen=True, slots=True)
class ToolNames:
    """The agent tool's name and description."""

    name: str
    description: str


def agent_tool(names: ToolNames) -> Tool:
    """The tool that sends the target a message."""
    return Tool(
        name=names.name,
        description=names.description,
        input_schema=agent_tool_schema(),
        annotations=ToolAnnotations(read_only_hint=False, open_world_hint=True),
    )


def command_tool(command: ChannelCommand) -> Tool:
    """A tool that runs one of the host's commands (``reset``, ``new``, …) in a conversation."""
    return Tool(
        name=command.name,
        description=command.description,
        input_schema={
            "type": "object",
            "properties": {
                "conversation_id": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_CONVERSATION_ID_CHARS,
                    "description": "The conversation, when not the MCP session's own.",
                }
            },
            "additionalProperties": False,
        },
    )


def command_tools(commands: Sequence[ChannelCommand], agent_tool_name: str) -> list[Tool]:
    """A tool per command whose name is a tool name and not the agent tool's."""
    return [
        command_tool(command)
        for command in commands
        if command.name != agent_tool_name and tool_name_for(command.name) == command.name
    ]

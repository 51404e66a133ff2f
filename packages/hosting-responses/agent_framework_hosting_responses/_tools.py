"""Caller-declared function tools: the model may call them, the caller runs them."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any, cast

from agent_framework import FunctionTool

from ._errors import ResponsesError

__all__ = ["late_tool_clash", "parse_tool_choice", "parse_tools"]

_EMPTY_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}
_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
"""A function tool's name, as the specification's ``FunctionToolParam`` allows it."""
_TOOL_FIELDS = frozenset({"type", "name", "description", "parameters", "strict"})
_CHOICE_FIELDS = frozenset({"type", "name"})


def parse_tools(
    value: Any, reserved: Collection[str] = frozenset()
) -> tuple[list[FunctionTool], list[dict[str, Any]]]:
    """Declaration-only tools for the agent, and the tools as the response echoes them.

    Args:
        value: The request's ``tools``.
        reserved: The names of the agent's own tools, which a declared tool must not take.

    Raises:
        ResponsesError: A tool is malformed, not a function, or its name is malformed,
            repeats an earlier tool's, or is one of ``reserved`` (400, ``param`` names it).

    """
    if not isinstance(value, list):
        raise ResponsesError("'tools' must be a list.", param="tools", code="invalid_type")
    declared: list[FunctionTool] = []
    echoed: list[dict[str, Any]] = []
    positions: dict[str, int] = {}
    for index, item in enumerate(cast("list[Any]", value)):
        where = f"tools[{index}]"
        if not isinstance(item, dict):
            raise ResponsesError(f"{where} must be an object.", param=where, code="invalid_type")
        fields = cast("dict[str, Any]", item)
        if fields.get("type") != "function":
            raise ResponsesError(
                f"{where}: only function tools are supported.",
                param=f"{where}.type",
                code="unsupported_parameter",
            )
        unknown = next((key for key in fields if key not in _TOOL_FIELDS), None)
        if unknown is not None:
            raise ResponsesError(
                f"Unrecognized function tool field: '{where}.{unknown}'.",
                param=f"{where}.{unknown}",
                code="unknown_parameter",
            )
        name = _tool_name(fields, where, positions, reserved)
        positions[name] = index
        parameters = _optional(fields, "parameters", Mapping, where, "a JSON schema object")
        description = _optional(fields, "description", str, where, "a string")
        strict = _optional(fields, "strict", bool, where, "a boolean")
        schema = dict(cast("Mapping[str, Any]", parameters or _EMPTY_SCHEMA))
        declared.append(
            FunctionTool(name=name, description=description or "", func=None, input_model=schema)
        )
        echoed.append(
            {
                "type": "function",
                "name": name,
                "description": description or None,
                "parameters": schema,
                # The specification's default: strict unless the caller turned it off.
                "strict": strict is not False,
            }
        )
    return declared, echoed


def late_tool_clash(value: Any, reserved: Collection[str]) -> ResponsesError | None:
    """The 400 for a declared tool named like an agent tool that became known only in the run.

    An MCP server's tools are known once it connects, which an agent does when it first
    runs: a request declaring one of their names passed the check before the run and
    failed in it. Called once a run failed, with the agent's tools as they are now.
    """
    if value is None:
        return None
    try:
        parse_tools(value, reserved)
    except ResponsesError as error:
        return error
    return None


def _tool_name(
    fields: Mapping[str, Any], where: str, positions: Mapping[str, int], reserved: Collection[str]
) -> str:
    """The tool's name, checked against the pattern, the earlier tools and ``reserved``."""
    name = fields.get("name")
    param = f"{where}.name"
    if not isinstance(name, str):
        raise ResponsesError(f"{param} must be a string.", param=param, code="invalid_type")
    if not _NAME.fullmatch(name):
        raise ResponsesError(
            f"{param} must be 1 to 64 letters, digits, underscores or dashes.",
            param=param,
            code="invalid_value",
        )
    if name in positions:
        raise ResponsesError(
            f"{param}: tools[{positions[name]}] is already named {name!r}; "
            "tool names must be unique.",
            param=param,
            code="invalid_value",
        )
    if name in reserved:
        raise ResponsesError(
            f"{param}: {name!r} is the name of one of the agent's own tools; "
            "declare the tool under another name.",
            param=param,
            code="invalid_value",
        )
    return name


def _optional(fields: Mapping[str, Any], name: str, kind: Any, where: str, described: str) -> Any:
    value = fields.get(name)
    if value is not None and not isinstance(value, kind):
        param = f"{where}.{name}"
        raise ResponsesError(f"{param} must be {described}.", param=param, code="invalid_type")
    return value


def parse_tool_choice(value: Any, declared: Collection[str], *, any_tools: bool) -> tuple[Any, Any]:
    """The framework's tool mode (``None`` to leave the agent's own), and the echo.

    Args:
        value: The request's ``tool_choice``.
        declared: The names of the tools the request declares.
        any_tools: Whether the run has tools at all, declared or the agent's own.

    Raises:
        ResponsesError: ``tool_choice`` is not one of the specification's forms, names a
            tool the request does not declare, asks for ``required`` with no tools to
            call, or is ``allowed_tools`` (400).

    """
    if value is None:
        return None, "auto"
    if value in ("auto", "none", "required"):
        if value == "required" and not any_tools:
            raise ResponsesError(
                "'tool_choice' 'required' needs a tool to call: declare one in 'tools'.",
                param="tool_choice",
                code="invalid_value",
            )
        return value, value
    if isinstance(value, dict):
        fields = cast("dict[str, Any]", value)
        if fields.get("type") == "allowed_tools":
            raise ResponsesError(
                "'tool_choice' of type 'allowed_tools' is not supported by this server: "
                "send only the tools the model may call in 'tools'.",
                param="tool_choice",
                code="unsupported_parameter",
            )
        name = fields.get("name")
        named = isinstance(name, str) and name in declared
        if fields.get("type") == "function" and set(fields) <= _CHOICE_FIELDS and named:
            mode = {"mode": "required", "required_function_name": name}
            return mode, {"type": "function", "name": name}
    raise ResponsesError(
        "'tool_choice' must be 'auto', 'none', 'required' or "
        '{"type": "function", "name": ...} naming a tool declared in \'tools\'.',
        param="tool_choice",
        code="invalid_value",
    )

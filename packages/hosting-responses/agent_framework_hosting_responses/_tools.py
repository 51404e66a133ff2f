"""Caller-declared function tools: the model may call them, the caller runs them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from agent_framework import FunctionTool

from ._errors import ResponsesError

__all__ = ["parse_tool_choice", "parse_tools"]

_EMPTY_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}


def parse_tools(value: Any) -> tuple[list[FunctionTool], list[dict[str, Any]]]:
    """Declaration-only tools for the agent, and the tools as the response echoes them."""
    if not isinstance(value, list):
        raise ResponsesError("'tools' must be a list.", param="tools", code="invalid_type")
    declared: list[FunctionTool] = []
    echoed: list[dict[str, Any]] = []
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
        name = fields.get("name")
        if not isinstance(name, str) or not name:
            raise ResponsesError(f"{where}.name must be a string.", param=f"{where}.name")
        parameters = fields.get("parameters") or _EMPTY_SCHEMA
        if not isinstance(parameters, Mapping):
            raise ResponsesError(
                f"{where}.parameters must be a JSON schema object.", param=f"{where}.parameters"
            )
        description = fields.get("description")
        description = description if isinstance(description, str) else ""
        schema = dict(cast("Mapping[str, Any]", parameters))
        declared.append(
            FunctionTool(name=name, description=description, func=None, input_model=schema)
        )
        echoed.append(
            {
                "type": "function",
                "name": name,
                "description": description or None,
                "parameters": schema,
                "strict": bool(fields.get("strict", True)),
            }
        )
    return declared, echoed


def parse_tool_choice(value: Any, tool_names: set[str]) -> tuple[Any, Any]:
    """The framework's tool mode, and the ``tool_choice`` the response echoes."""
    if value is None or value in ("auto", "none", "required"):
        choice = value or "auto"
        return choice, choice
    if isinstance(value, dict):
        fields = cast("dict[str, Any]", value)
        name = fields.get("name")
        if fields.get("type") == "function" and isinstance(name, str) and name in tool_names:
            mode = {"mode": "required", "required_function_name": name}
            return mode, {"type": "function", "name": name}
    raise ResponsesError(
        "'tool_choice' must be 'auto', 'none', 'required' or a declared function.",
        param="tool_choice",
        code="invalid_value",
    )

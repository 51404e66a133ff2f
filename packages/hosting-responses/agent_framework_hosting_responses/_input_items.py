"""Input items → messages: every item and content part checked exactly before it is read.

An item or a part is an object with a string ``type`` this channel takes; each holds
only the fields of its type (as the specification and the ``openai`` SDK define them),
each of the exact kind its type says, and each enumerated value one of its values.
Anything else is a ``400`` naming the field (``input[2].content[0].type``): an unknown
field is ``unknown_parameter`` as at the top of a request, a value of the wrong kind
``invalid_type``, a value outside its set ``invalid_value``. Fields that describe an
item as a response listed it (``id``, ``status``, ``phase``, ``annotations``,
``logprobs``) are checked and otherwise not used.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import re
from collections.abc import Collection, Mapping
from typing import Any, cast

from agent_framework import Content, Message
from agent_framework.exceptions import ContentError
from agent_framework_hosting import data_content

from ._errors import ResponsesError
from ._items import IMAGE_FORMATS, refusal_content

__all__ = [
    "BARE_PARTS",
    "MAX_FILE_DATA",
    "message_from_item",
    "messages_from_items",
    "messages_from_responses_input",
    "unmatched_outputs",
]

_ROLES = ("user", "assistant", "system", "developer")
_STATUSES = ("in_progress", "completed", "incomplete")
_IMAGE_STATUSES = ("in_progress", "completed", "generating", "failed")
_PHASES = ("commentary", "final_answer")
_DETAILS = ("low", "high", "auto", "original")
_OUTPUT_FORMATS = tuple(IMAGE_FORMATS.values())

_ITEM_FIELDS = {
    "message": frozenset({"type", "id", "role", "content", "status", "phase"}),
    "function_call": frozenset({"type", "id", "call_id", "name", "arguments", "status"}),
    "function_call_output": frozenset({"type", "id", "call_id", "output", "status"}),
    "reasoning": frozenset({"type", "id", "summary", "content", "encrypted_content", "status"}),
    "image_generation_call": frozenset({"type", "id", "status", "result", "output_format"}),
    "mcp_call": frozenset(
        {
            "type",
            "id",
            "status",
            "server_label",
            "name",
            "arguments",
            "output",
            "error",
            "approval_request_id",
        }
    ),
}
_MCP_STATUSES = ("in_progress", "completed", "incomplete", "calling", "failed")
_PART_FIELDS = {
    "input_text": frozenset({"type", "text"}),
    "output_text": frozenset({"type", "text", "annotations", "logprobs"}),
    "text": frozenset({"type", "text"}),
    "refusal": frozenset({"type", "refusal"}),
    "input_image": frozenset({"type", "image_url", "detail", "file_id"}),
    "input_file": frozenset({"type", "file_data", "file_url", "file_id", "filename", "detail"}),
}
BARE_PARTS = frozenset({"input_text", "input_image", "input_file"})
"""Content parts that may stand in ``input`` as items of their own: each a user message."""
_FILE_DETAILS = ("auto", "low", "high")
MAX_FILE_DATA = 33_554_432
"""The longest ``file_data`` (characters) the specification allows."""
_OCTET_STREAM = "application/octet-stream"
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*/[A-Za-z0-9][A-Za-z0-9_.+-]*")
_SUMMARY_FIELDS = frozenset({"type", "text"})


def messages_from_responses_input(value: Any) -> list[Message]:
    """Turn a Responses ``input`` (a string or a list of items) into messages."""
    if isinstance(value, str):
        if not value:
            raise ResponsesError("'input' must not be empty.", param="input", code="empty_input")
        return [Message("user", [value])]
    if not isinstance(value, list) or not value:
        raise ResponsesError(
            "'input' must be a string or a non-empty list of items.",
            param="input",
            code="invalid_type",
        )
    return messages_from_items(cast("list[Any]", value), "input")


def messages_from_items(items: list[Any], field: str) -> list[Message]:
    """Validate the items of the list named ``field`` and turn them into messages."""
    return [message_from_item(item, f"{field}[{index}]") for index, item in enumerate(items)]


def message_from_item(item: Any, where: str) -> Message:
    """Validate one input item (``where`` names it in errors) and turn it into a message."""
    fields = _object(item, where)
    kind = fields.get("type", "message")
    if not isinstance(kind, str):
        raise _wrong_type(f"{where}.type", "a string")
    if kind in BARE_PARTS:
        return Message("user", [_part(fields, where)])
    if kind not in _ITEM_FIELDS:
        raise ResponsesError(
            f"{where} has unsupported item type {kind!r}.",
            param=f"{where}.type",
            code="invalid_value",
        )
    _only_known(fields, _ITEM_FIELDS[kind], where)
    _optional_string(fields, "id", where)
    if kind == "function_call_output":
        return _function_call_output(fields, where)
    if kind == "function_call":
        return _function_call(fields, where)
    if kind == "reasoning":
        return _reasoning(fields, where)
    if kind == "image_generation_call":
        return _image_generation_call(fields, where)
    if kind == "mcp_call":
        return _mcp_call(fields, where)
    return _message(fields, where)


def unmatched_outputs(body_input: Any) -> dict[str, int]:
    """The input's ``function_call_output`` items whose call it does not hold: call id → index.

    ``body_input`` is a validated ``input`` (a string holds none).
    """
    if not isinstance(body_input, list):
        return {}
    entries = cast("list[dict[str, Any]]", body_input)
    calls = {item["call_id"] for item in entries if item.get("type") == "function_call"}
    answers: dict[str, int] = {}
    for index, item in enumerate(entries):
        if item.get("type") == "function_call_output" and item["call_id"] not in calls:
            answers.setdefault(item["call_id"], index)
    return answers


def _message(fields: Mapping[str, Any], where: str) -> Message:
    role = _one_of(fields, "role", _ROLES, where)
    _choice(fields, "status", _STATUSES, where)
    _choice(fields, "phase", _PHASES, where)
    framework_role = "system" if role == "developer" else role
    content = fields.get("content")
    if isinstance(content, str):
        return Message(framework_role, [content])
    if not isinstance(content, list) or not content:
        raise ResponsesError(
            f"{where}.content must be a string or a non-empty list of parts.",
            param=f"{where}.content",
            code="invalid_type",
        )
    parts = cast("list[Any]", content)
    contents = [_part(part, f"{where}.content[{index}]") for index, part in enumerate(parts)]
    return Message(framework_role, contents)


def _function_call(fields: Mapping[str, Any], where: str) -> Message:
    _choice(fields, "status", _STATUSES, where)
    call = Content.from_function_call(
        call_id=_call_id(fields, where),
        name=_string(fields, "name", where),
        arguments=_string(fields, "arguments", where),
    )
    return Message("assistant", [call])


def _function_call_output(fields: Mapping[str, Any], where: str) -> Message:
    _choice(fields, "status", _STATUSES, where)
    result = Content.from_function_result(
        call_id=_call_id(fields, where), result=_string(fields, "output", where)
    )
    return Message("tool", [result])


def _reasoning(fields: Mapping[str, Any], where: str) -> Message:
    """A ``reasoning`` item: its summary, as the agent's reasoning.

    ``encrypted_content`` is accepted and not used: it is opaque to this server.
    """
    _choice(fields, "status", _STATUSES, where)
    _optional_string(fields, "encrypted_content", where)
    summary = fields.get("summary")
    if not isinstance(summary, list):
        raise _wrong_type(f"{where}.summary", "a list of summary_text parts")
    texts: list[str] = []
    for index, part in enumerate(cast("list[Any]", summary)):
        at = f"{where}.summary[{index}]"
        entry = _object(part, at)
        if entry.get("type") != "summary_text":
            raise ResponsesError(
                f"{at} must be a summary_text part.", param=at, code="invalid_value"
            )
        _only_known(entry, _SUMMARY_FIELDS, at)
        texts.append(_string(entry, "text", at))
    content = fields.get("content")
    if content is not None and not isinstance(content, list):
        raise _wrong_type(f"{where}.content", "a list")
    if content:
        raise ResponsesError(
            f"{where}.content: raw reasoning content is not accepted, only its summary.",
            param=f"{where}.content",
            code="unsupported_parameter",
        )
    return Message("assistant", [Content.from_text_reasoning(text=text) for text in texts])


def _image_generation_call(fields: Mapping[str, Any], where: str) -> Message:
    """An ``image_generation_call`` item: the image it holds, as the agent's."""
    _string(fields, "id", where)
    _choice(fields, "status", _IMAGE_STATUSES, where)
    output_format = _choice(fields, "output_format", _OUTPUT_FORMATS, where) or "png"
    result = fields.get("result")
    if result is None:
        return Message("assistant", [])
    if not isinstance(result, str) or not _is_base64(result):
        raise ResponsesError(
            f"{where}.result must be a base64 image or null.",
            param=f"{where}.result",
            code="invalid_value",
        )
    media_type = f"image/{output_format}"
    return Message("assistant", [Content.from_uri(f"data:{media_type};base64,{result}")])


def _mcp_call(fields: Mapping[str, Any], where: str) -> Message:
    """An ``mcp_call`` item: the hosted MCP call the agent's service ran, and its output.

    ``error`` (an object) is checked and not used; an ``approval_request_id`` is refused:
    this server runs no approval flow for hosted calls.
    """
    call_id = _string(fields, "id", where)
    _choice(fields, "status", _MCP_STATUSES, where)
    if fields.get("error") is not None:
        _object(fields["error"], f"{where}.error")
    if fields.get("approval_request_id") is not None:
        raise ResponsesError(
            f"{where}.approval_request_id: this server runs no approval flow for MCP calls.",
            param=f"{where}.approval_request_id",
            code="unsupported_parameter",
        )
    call = Content.from_mcp_server_tool_call(
        call_id=call_id,
        tool_name=_string(fields, "name", where),
        server_name=_string(fields, "server_label", where),
        arguments=_string(fields, "arguments", where),
    )
    output = _optional_string(fields, "output", where)
    if output is None:
        return Message("assistant", [call])
    result = Content.from_mcp_server_tool_result(call_id=call_id, output=output)
    return Message("assistant", [call, result])


def _part(part: Any, where: str) -> Content:
    fields = _object(part, where)
    kind = fields.get("type")
    if not isinstance(kind, str):
        raise _wrong_type(f"{where}.type", "a string")
    if kind not in _PART_FIELDS:
        raise ResponsesError(
            f"{where} has unsupported content type {kind!r}.",
            param=f"{where}.type",
            code="invalid_value",
        )
    _only_known(fields, _PART_FIELDS[kind], where)
    if kind == "input_image":
        return _image(fields, where)
    if kind == "input_file":
        return _file(fields, where)
    if kind == "refusal":
        return refusal_content(_string(fields, "refusal", where))
    for name in ("annotations", "logprobs"):
        if fields.get(name) is not None and not isinstance(fields[name], list):
            raise _wrong_type(f"{where}.{name}", "a list")
    return Content.from_text(text=_string(fields, "text", where))


def _image(fields: Mapping[str, Any], where: str) -> Content:
    _choice(fields, "detail", _DETAILS, where)
    if fields.get("file_id") is not None:
        raise ResponsesError(
            f"{where}.file_id: this server keeps no files; send the image as image_url.",
            param=f"{where}.file_id",
            code="unsupported_parameter",
        )
    url = fields.get("image_url")
    param = f"{where}.image_url"
    if not isinstance(url, str) or not url.startswith(("data:image/", "https://", "http://")):
        raise ResponsesError(
            f"{param} must be a data:image/... URL or an http(s) URL.",
            param=param,
            code="invalid_value",
        )
    if not url.startswith("data:"):
        return Content.from_uri(uri=url, media_type="image/*")
    header, _, payload = url.partition(",")
    refused = ResponsesError(
        f"{param} must be a data URL holding base64 data.", param=param, code="invalid_value"
    )
    if header.rpartition(";")[2] != "base64" or not _is_base64(payload):
        raise refused
    try:
        return Content.from_uri(uri=url, media_type=header[5:].split(";", 1)[0])
    except ContentError:  # the framework's own reading of the URL's parameters
        raise refused from None


def _file(fields: Mapping[str, Any], where: str) -> Content:
    """An ``input_file`` part: its data (base64, or a base64 data URL) or its http(s) URL.

    The data reaches the agent as data content with the file's name; a URL as URI content.
    The media type is the data URL's, else guessed from the file name or URL, else
    ``application/octet-stream``.
    """
    _choice(fields, "detail", _FILE_DETAILS, where)
    if fields.get("file_id") is not None:
        raise ResponsesError(
            f"{where}.file_id: this server has no Files API; send the file as file_data "
            "(base64, with its filename) or file_url.",
            param=f"{where}.file_id",
            code="unsupported_parameter",
        )
    name = _optional_string(fields, "filename", where)
    data = _optional_string(fields, "file_data", where)
    url = _optional_string(fields, "file_url", where)
    if (data is None) == (url is None):
        raise ResponsesError(
            f"{where} must hold exactly one of file_data and file_url.",
            param=f"{where}.file_data",
            code="invalid_value" if data is not None else "missing_required_parameter",
        )
    if url is not None:
        param = f"{where}.file_url"
        if not url.startswith(("https://", "http://")):
            raise ResponsesError(
                f"{param} must be an http(s) URL.", param=param, code="invalid_value"
            )
        return Content.from_uri(url, media_type=_guessed_type(name or url.split("?", 1)[0]))
    return _file_data(cast("str", data), name, f"{where}.file_data")


def _file_data(data: str, name: str | None, param: str) -> Content:
    """The data of an ``input_file``: a ``data:`` URL holding base64, or bare base64."""
    if len(data) > MAX_FILE_DATA:
        raise ResponsesError(
            f"{param} is longer than {MAX_FILE_DATA} characters.",
            param=param,
            code="string_above_max_length",
        )
    media_type = _guessed_type(name)
    if data.startswith("data:"):
        header, _, data = data.partition(",")
        if header.rpartition(";")[2] != "base64":
            raise ResponsesError(
                f"{param} must be base64, or a data URL holding base64.",
                param=param,
                code="invalid_value",
            )
        declared = header[5:].split(";", 1)[0]
        if declared and not _MEDIA_TYPE.fullmatch(declared):
            raise ResponsesError(
                f"{param} names no valid media type.", param=param, code="invalid_value"
            )
        media_type = declared or media_type
    try:
        decoded = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        decoded = b""
    if not decoded:
        raise ResponsesError(
            f"{param} must be base64, or a data URL holding base64.",
            param=param,
            code="invalid_value",
        )
    return data_content(decoded, media_type, name=name)


def _guessed_type(name: str | None) -> str:
    """The media type a file name (or URL path) suggests, else ``application/octet-stream``."""
    guessed = mimetypes.guess_type(name)[0] if name else None
    return guessed or _OCTET_STREAM


def _is_base64(text: str) -> bool:
    if not text:
        return False
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _wrong_type(where, "an object")
    return cast("dict[str, Any]", value)


def _only_known(fields: Mapping[str, Any], known: Collection[str], where: str) -> None:
    for name in fields:
        if name not in known:
            raise ResponsesError(
                f"Unrecognized field: '{where}.{name}'.",
                param=f"{where}.{name}",
                code="unknown_parameter",
            )


def _string(fields: Mapping[str, Any], name: str, where: str) -> str:
    value = fields.get(name)
    if not isinstance(value, str):
        raise _wrong_type(f"{where}.{name}", "a string")
    return value


def _optional_string(fields: Mapping[str, Any], name: str, where: str) -> str | None:
    return None if fields.get(name) is None else _string(fields, name, where)


def _call_id(fields: Mapping[str, Any], where: str) -> str:
    call_id = _string(fields, "call_id", where)
    if not call_id:
        raise ResponsesError(
            f"{where}.call_id must not be empty.", param=f"{where}.call_id", code="invalid_value"
        )
    return call_id


def _choice(
    fields: Mapping[str, Any], name: str, allowed: tuple[str, ...], where: str
) -> str | None:
    """An optional field holding one of ``allowed`` (``None`` when absent)."""
    return None if fields.get(name) is None else _one_of(fields, name, allowed, where)


def _one_of(fields: Mapping[str, Any], name: str, allowed: tuple[str, ...], where: str) -> str:
    """A field holding one of ``allowed``."""
    value = fields.get(name)
    param = f"{where}.{name}"
    if not isinstance(value, str) or value not in allowed:
        raise ResponsesError(
            f"{param} must be one of {', '.join(allowed)}.", param=param, code="invalid_value"
        )
    return value


def _wrong_type(param: str, described: str) -> ResponsesError:
    return ResponsesError(f"{param} must be {described}.", param=param, code="invalid_type")

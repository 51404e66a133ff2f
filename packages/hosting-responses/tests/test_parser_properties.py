"""Every body parser of the channel, fuzzed: it accepts a body or refuses it with a 4xx.

Hypothesis generates bodies near the shapes the parsers read — items and content parts
of every type with values of every kind in each field — as well as arbitrary JSON. Each
parser either accepts the body or raises :class:`ResponsesError` with a 4xx status; no
other exception escapes. What a parser accepts can be stored and sent back: its items
are listed and encoded without error.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from agent_framework_hosting import MemoryStateStore, WireError, decode_json, encode_json
from agent_framework_hosting_responses import ResponsesError
from agent_framework_hosting_responses._compact import (  # pyright: ignore[reportPrivateUsage]
    Compactions,
)
from agent_framework_hosting_responses._conversations_api import (  # pyright: ignore[reportPrivateUsage]
    _new_items,  # pyright: ignore[reportPrivateUsage]
)
from agent_framework_hosting_responses._parse import validate_request
from agent_framework_hosting_responses._store import input_items, page_of
from agent_framework_hosting_responses._websocket import (  # pyright: ignore[reportPrivateUsage]
    _create_body,  # pyright: ignore[reportPrivateUsage]
)
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ._strategies import FIELDS, json_values, odd_text

FUZZ = settings(
    max_examples=300,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
"""Fixed examples, more of them than a server test can afford: parsing is cheap."""

PNG = "data:image/png;base64,iVBORw0KGgo="

part_types = st.sampled_from(
    ["input_text", "output_text", "text", "refusal", "input_image", "input_file", "summary_text"]
)
parts = st.fixed_dictionaries(
    {"type": part_types | json_values},
    optional={
        "text": odd_text | json_values,
        "refusal": odd_text | json_values,
        "image_url": st.sampled_from(
            [PNG, "https://x/y.png", "data:image/png;base64,@@", "data:image/x;base64\u00e0,QUJD"]
        )
        | json_values,
        "detail": st.sampled_from(["low", "high", "auto", "original", "max"]) | json_values,
        "file_id": json_values,
        "annotations": json_values,
        "logprobs": json_values,
        "colour": json_values,
    },
)
item_types = st.sampled_from(
    [
        "message",
        "function_call",
        "function_call_output",
        "reasoning",
        "image_generation_call",
        "compaction",
        "item_reference",
    ]
)
items = st.fixed_dictionaries(
    {"type": item_types | json_values},
    optional={
        "id": odd_text | json_values,
        "role": st.sampled_from(["user", "assistant", "system", "developer", "tool"]) | json_values,
        "content": odd_text | st.lists(parts, max_size=3) | json_values,
        "status": st.sampled_from(["in_progress", "completed", "incomplete", "AAA"]) | json_values,
        "phase": st.sampled_from(["commentary", "final_answer"]) | json_values,
        "call_id": st.sampled_from(["c1", "c2", ""]) | json_values,
        "name": odd_text | json_values,
        "arguments": odd_text | json_values,
        "output": odd_text | json_values,
        "summary": st.lists(
            st.fixed_dictionaries(
                {"type": st.just("summary_text") | json_values}, optional={"text": json_values}
            ),
            max_size=2,
        )
        | json_values,
        "result": st.sampled_from(["iVBORw0KGgo=", "@@"]) | json_values,
        "output_format": st.sampled_from(["png", "jpeg", "svg"]) | json_values,
        "encrypted_content": odd_text | json_values,
    },
)
inputs = odd_text | st.lists(items, max_size=4) | json_values
bodies = (
    st.fixed_dictionaries(
        {"input": inputs},
        optional={name: json_values for name in FIELDS if name != "input"},
    )
    | json_values
)


def _off_the_wire(value: Any) -> Any:
    """``value`` as the boundary decodes it, or ``_REFUSED`` (a lone surrogate, too deep)."""
    try:
        return decode_json(json.dumps(value))
    except WireError:
        return _REFUSED


_REFUSED: Any = object()


def _refused_as_a_client_error(error: ResponsesError) -> None:
    assert 400 <= error.status < 500, error.message
    assert error.code, error.message


@FUZZ
@example(body={"input": [{"role": "user", "content": [{"type": [], "text": "x"}]}]})
@example(body={"input": [{"role": [], "content": "x"}]})
@given(body=bodies)
def test_the_create_parser_accepts_or_refuses_with_a_4xx(body: Any) -> None:
    body = _off_the_wire(body)
    if body is _REFUSED:
        return
    try:
        parsed = validate_request(body, target_tool_names={"current_time"})
    except ResponsesError as error:
        _refused_as_a_client_error(error)
        return
    encode_json(input_items(parsed.body["input"]))
    encode_json(parsed.tools)
    encode_json(parsed.metadata)


@FUZZ
@given(value=st.lists(items, max_size=4) | json_values)
def test_the_conversation_items_parser_accepts_or_refuses_with_a_4xx(value: Any) -> None:
    value = _off_the_wire(value)
    if value is _REFUSED:
        return
    try:
        added = _new_items(value, known=set(), required=True)
    except ResponsesError as error:
        _refused_as_a_client_error(error)
        return
    encode_json(added)


@FUZZ
@given(body=bodies)
def test_compaction_expansion_accepts_or_refuses_with_a_4xx(body: Any) -> None:
    body = _off_the_wire(body)
    if body is _REFUSED:
        return
    try:
        asyncio.run(Compactions(MemoryStateStore()).expand(body, None))
    except ResponsesError as error:
        _refused_as_a_client_error(error)


@FUZZ
@given(
    message=bodies.map(
        lambda body: {"type": "response.create", **body} if isinstance(body, dict) else body
    )
    | json_values
)
def test_the_websocket_message_parser_accepts_or_refuses_with_a_4xx(message: Any) -> None:
    try:
        validate_request(_create_body(message))
    except ResponsesError as error:
        _refused_as_a_client_error(error)


@FUZZ
@given(
    query=st.dictionaries(
        st.sampled_from(["limit", "order", "after"]),
        st.sampled_from(["1", "100", "101", "0", "asc", "desc", "\uff15", "m1"]) | odd_text,
    )
)
def test_paging_accepts_or_refuses_with_a_4xx(query: dict[str, str]) -> None:
    listed = [{"id": "m1"}, {"id": "m2"}]
    try:
        page = page_of(listed, query)
    except ResponsesError as error:
        _refused_as_a_client_error(error)
        return
    assert len(page["data"]) <= int(query.get("limit", "20"))

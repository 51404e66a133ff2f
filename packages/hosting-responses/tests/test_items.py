"""Contents as other chat clients stream them, turned into output items and their events.

The offline client cannot produce these shapes (a provider's closing ``replace`` piece, a
hosted image tool's result, raw reasoning), so the builder gets them directly; every
event is still checked against the spec.
"""

from __future__ import annotations

import base64
import inspect

import pytest
from agent_framework import AgentResponse, Content, Message
from agent_framework_hosting_responses._items import OutputBuilder, items_of, wire

from ._schema import validate_event, validate_item

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n").decode()

needs_merge_modes = pytest.mark.skipif(
    "merge_mode" not in inspect.signature(Content.from_text).parameters,
    reason="this framework version has no merge modes",
)


def build(*contents: Content) -> tuple[OutputBuilder, list[tuple[str, dict[str, object]]]]:
    builder = OutputBuilder(streaming=True)
    events = [event for content in contents for event in builder.add(content, source="m1")]
    events.extend(builder.close())
    for number, (kind, fields) in enumerate(events):
        validate_event({"type": kind, "sequence_number": number, **fields})
    for item in builder.items:
        validate_item(wire(item, status="completed"))
    return builder, events


@needs_merge_modes
def test_a_closing_replace_piece_adds_only_what_is_new() -> None:
    builder, events = build(
        Content.from_text("Hello "),
        Content.from_text("wor"),
        Content.from_text("Hello world", merge_mode="replace"),
    )
    deltas = [fields["delta"] for kind, fields in events if kind.endswith(".delta")]
    assert deltas == ["Hello ", "wor", "ld"]
    assert builder.items[0].parts[0].text == "Hello world"


@needs_merge_modes
def test_a_replace_piece_that_rewrites_closes_with_the_new_text() -> None:
    _, events = build(Content.from_text("draft"), Content.from_text("final", merge_mode="replace"))
    deltas = [fields["delta"] for kind, fields in events if kind.endswith(".delta")]
    assert deltas == ["draft"]
    done = next(fields for kind, fields in events if kind == "response.output_text.done")
    assert done["text"] == "final"


def test_empty_text_and_raw_reasoning_open_no_item() -> None:
    raw = Content.from_text_reasoning(
        text="step one", additional_properties={"reasoning_text": True}
    )
    builder, events = build(Content.from_text(""), raw)
    assert builder.items == []
    assert events == []


def test_text_switching_to_a_refusal_opens_a_second_part() -> None:
    refusal = Content.from_text(
        "No.", additional_properties={"core": {"model_output_kind": "refusal"}}
    )
    builder, events = build(Content.from_text("Well... "), refusal)
    (message,) = builder.items
    assert [(part.kind, part.text) for part in message.parts] == [
        ("output_text", "Well... "),
        ("refusal", "No."),
    ]
    added = [
        fields["content_index"] for kind, fields in events if kind == "response.content_part.added"
    ]
    assert added == [0, 1]


def test_reasoning_of_another_id_is_another_item() -> None:
    builder, _ = build(
        Content.from_text_reasoning(id="rs_a", text="first"),
        Content.from_text_reasoning(id="rs_b", text="second"),
    )
    assert [item.kind for item in builder.items] == ["reasoning", "reasoning"]


def test_a_function_call_ends_the_open_item() -> None:
    builder, _ = build(
        Content.from_text("Let me check. "),
        Content.from_function_call("call_1", "lookup", arguments="{}"),
        Content.from_text("Found it."),
    )
    assert [item.kind for item in builder.items] == ["message", "message"]


def test_a_hosted_image_tools_result_is_an_image_item_and_its_partials_are_not() -> None:
    partial = Content.from_uri(
        f"data:image/png;base64,{PNG}", additional_properties={"is_partial_image": True}
    )
    final = Content.from_uri(f"data:image/png;base64,{PNG}")
    builder, events = build(
        Content.from_image_generation_tool_result(image_id="ig_1", outputs=partial),
        Content.from_image_generation_tool_result(image_id="ig_1", outputs=final),
    )
    (image,) = builder.items
    assert wire(image, status="completed")["result"] == PNG
    assert [kind for kind, _ in events][1:3] == [
        "response.image_generation_call.in_progress",
        "response.image_generation_call.completed",
    ]


def test_text_of_separate_framework_messages_are_separate_items() -> None:
    result = AgentResponse(
        messages=[
            Message("assistant", ["one"], message_id="a"),
            Message("assistant", ["two"], message_id="b"),
        ]
    )
    assert [[part.text for part in item.parts] for item in items_of(result)] == [["one"], ["two"]]


def test_a_finished_run_makes_the_items_a_stream_of_its_contents_makes_and_no_events() -> None:
    refusal = Content.from_text(
        "No.", additional_properties={"core": {"model_output_kind": "refusal"}}
    )
    contents = [
        Content.from_text_reasoning(id="rs_a", text="thinking"),
        Content.from_text("Well"),
        Content.from_text("... "),
        refusal,
        Content.from_function_call("call_1", "lookup", arguments="{}"),
        Content.from_text("Found it."),
        Content.from_uri(f"data:image/png;base64,{PNG}"),
    ]
    streamed, _ = build(*contents)
    finished = OutputBuilder(streaming=False)
    assert [finished.add(content, source="m1") for content in contents] == [[]] * len(contents)
    assert finished.close() == []

    def shape(builder: OutputBuilder) -> list[dict[str, object]]:
        return [{**wire(item, status="completed"), "id": None} for item in builder.items]

    assert shape(finished) == shape(streamed)
    assert [item.kind for item in finished.items] == [
        "reasoning",
        "message",
        "message",
        "image_generation_call",
    ]
    assert [(part.kind, part.text) for part in finished.items[1].parts] == [
        ("output_text", "Well... "),
        ("refusal", "No."),
    ]

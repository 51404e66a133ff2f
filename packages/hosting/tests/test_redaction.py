"""`StreamRedactor`: patterns redacted from streamed text wherever the stream splits it."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable
from itertools import pairwise
from typing import Any

import pytest
from agent_framework import AgentResponse, AgentResponseUpdate, Content, Message
from agent_framework_hosting import ChannelRequest, HostedRunResult, StreamRedactor
from hypothesis import given, settings
from hypothesis import strategies as st

CARD = r"\b(?:\d[ -]?){12,15}\d\b"
KEY = r"sk-[A-Za-z0-9]{8,}"
REQUEST = ChannelRequest(channel="test", operation="message.create", input="hi")


def text_update(text: str, message_id: str = "m1", kind: str = "text") -> AgentResponseUpdate:
    content = (
        Content.from_text(text=text) if kind == "text" else Content.from_text_reasoning(text=text)
    )
    return AgentResponseUpdate(contents=[content], role="assistant", message_id=message_id)


def stream_through(redactor: StreamRedactor, updates: Iterable[AgentResponseUpdate]) -> list[Any]:
    run = redactor.open_run(REQUEST)
    sent: list[AgentResponseUpdate] = []
    for update in updates:
        sent.extend(run.update(update))
    sent.extend(run.end())
    return sent


def pieces_of(text: str, cuts: list[int]) -> list[str]:
    bounds = [0, *sorted({cut % (len(text) + 1) for cut in cuts}), len(text)]
    return [text[start:end] for start, end in pairwise(bounds)]


@settings(max_examples=300, deadline=None, database=None)
@given(
    text=st.lists(
        st.sampled_from(["4111 1111 1111 1111", "sk-Abc123XYZ789", "4111", " ", "a", "sk-", "\n"]),
        max_size=12,
    ).map("".join),
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=12),
)
def test_what_is_sent_joins_to_the_whole_text_redacted_for_any_split(
    text: str, cuts: list[int]
) -> None:
    redactor = StreamRedactor(CARD, KEY)
    sent = stream_through(redactor, [text_update(piece) for piece in pieces_of(text, cuts)])
    assert "".join(update.text for update in sent) == redactor.redact(text)


@pytest.mark.parametrize("size", range(1, 12))
def test_no_sent_piece_holds_a_fragment_of_a_match_split_anywhere(size: int) -> None:
    text = "card 4111 1111 1111 1111 ok"
    pieces = [text[start : start + size] for start in range(0, len(text), size)]
    sent = [
        update.text for update in stream_through(StreamRedactor(CARD), map(text_update, pieces))
    ]
    assert "".join(sent) == "card [redacted] ok"
    assert not any(digit in piece for piece in sent for digit in "41")


def test_a_match_at_the_very_end_is_held_until_the_updates_end() -> None:
    run = StreamRedactor(KEY, replacement="[key]").open_run(REQUEST)
    assert [u.text for u in run.update(text_update("key: sk-Abc123XYZ"))] == ["key: "]
    assert [u.text for u in run.update(text_update("789"))] == []
    assert [u.text for u in run.end()] == ["[key]"]


def test_held_text_goes_out_before_the_next_content_of_another_kind() -> None:
    call = Content.from_function_call(call_id="c1", name="lookup", arguments="{}")
    updates = [
        text_update("use sk-Abc"),
        AgentResponseUpdate(contents=[call], role="assistant", message_id="m1"),
    ]
    sent = stream_through(StreamRedactor(KEY), updates)
    assert [[c.type for c in u.contents] for u in sent] == [["text"], ["text"], ["function_call"]]
    assert [u.text for u in sent[:2]] == ["use ", "sk-Abc"]


def test_each_message_and_the_reasoning_hold_their_own_text() -> None:
    updates = [
        text_update("thinking sk-Ab", kind="reasoning"),
        text_update("c12345 and more", kind="reasoning"),
        text_update("first sk-Ab", message_id="m1"),
        text_update("c12345", message_id="m2"),
    ]
    sent = stream_through(StreamRedactor(KEY), updates)
    by_part = [(u.message_id, u.contents[0].type, u.contents[0].text) for u in sent]
    assert by_part == [
        ("m1", "text_reasoning", "thinking "),
        ("m1", "text_reasoning", "[redacted] and more"),
        ("m1", "text", "first "),
        ("m1", "text", "sk-Ab"),
        ("m2", "text", "c12345"),
    ]


def test_updates_without_text_pass_through_unchanged() -> None:
    usage = AgentResponseUpdate(contents=[Content.from_usage({"input_token_count": 1})])
    empty = AgentResponseUpdate(contents=[])
    assert stream_through(StreamRedactor(KEY), [usage, empty]) == [usage, empty]


def test_runs_are_independent() -> None:
    redactor = StreamRedactor(KEY)
    first, second = redactor.open_run(REQUEST), redactor.open_run(REQUEST)
    first.update(text_update("a sk-Abc"))
    second.update(text_update("b sk-Xyz"))
    assert [u.text for u in first.end()] == ["sk-Abc"]
    assert [u.text for u in second.end()] == ["sk-Xyz"]


def test_lookbehinds_see_text_already_sent() -> None:
    redactor = StreamRedactor(r"(?<=pin )\d{4}")
    sent = stream_through(redactor, [text_update("my pin "), text_update("1234, not 5678")])
    assert "".join(u.text for u in sent) == "my pin [redacted], not 5678"


def test_compiled_re_patterns_keep_their_flags() -> None:
    redactor = StreamRedactor(re.compile("secret", re.IGNORECASE))
    assert redactor.redact("a SeCrEt") == "a [redacted]"


@pytest.mark.parametrize("patterns", [(), ("x*",), ("a|",)])
def test_no_pattern_or_one_matching_nothing_is_refused(patterns: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="pattern"):
        StreamRedactor(*patterns)


def test_the_response_hook_redacts_text_and_reasoning_and_keeps_other_contents() -> None:
    image = Content.from_uri(uri="https://example.test/a.png", media_type="image/png")
    message = Message(
        "assistant",
        [
            Content.from_text_reasoning(text="saw sk-Abc12345"),
            Content.from_text(text="sk-Abc12345"),
            image,
        ],
    )
    redactor = StreamRedactor(KEY, replacement="[key]")
    hooked = redactor.response_hook(HostedRunResult(AgentResponse(messages=[message])))
    contents = hooked.result.messages[0].contents
    assert [c.text for c in contents[:2]] == ["saw [key]", "[key]"]
    assert contents[2] is image
    assert message.contents[1].text == "sk-Abc12345"


@pytest.mark.skipif(
    "merge_mode" not in inspect.signature(Content.from_text).parameters,
    reason="this agent-framework-core has no replacing text pieces",
)
def test_a_piece_replacing_the_text_starts_it_over_even_when_all_of_it_is_held() -> None:
    replacing = Content.from_text(text="sk-Abc12", merge_mode="replace")
    updates = [
        text_update("draft sk-Xy"),
        AgentResponseUpdate(contents=[replacing], role="assistant", message_id="m1"),
        text_update("345 done"),
    ]
    sent = stream_through(StreamRedactor(KEY), updates)
    shown = ""
    for update in sent:
        for content in update.contents:
            replaces = getattr(content, "merge_mode", None) == "replace"
            shown = content.text if replaces else shown + content.text
    assert shown == "[redacted] done"

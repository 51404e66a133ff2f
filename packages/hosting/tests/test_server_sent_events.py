"""The test kit's SSE reader splits lines only where the SSE spec does."""

from __future__ import annotations

from agent_framework_hosting.testing import ServerSentEvent, server_sent_events


def test_events_are_split_at_blank_lines_with_their_names_and_ids() -> None:
    body = 'event: error\nid: 3\ndata: {"a": 1}\n\n: keep-alive\n\ndata: x\ndata: y\n\n'
    assert server_sent_events(body) == [
        ServerSentEvent("error", '{"a": 1}', "3"),
        ServerSentEvent("message", "x\ny"),
    ]


def test_carriage_returns_end_lines_as_line_feeds_do() -> None:
    assert server_sent_events("data: a\r\n\r\ndata: b\r\rdata:c") == [
        ServerSentEvent("message", "a"),
        ServerSentEvent("message", "b"),
        ServerSentEvent("message", "c"),
    ]


def test_unicode_line_separators_are_text_inside_the_data() -> None:
    assert server_sent_events('data: "a\u2028b\x85c\x0bd"\n\n') == [
        ServerSentEvent("message", '"a\u2028b\x85c\x0bd"')
    ]


def test_an_event_with_empty_data_is_not_dispatched() -> None:
    assert server_sent_events("id: 1\ndata: \n\ndata:\ndata:\n\n") == [
        ServerSentEvent("message", "\n")
    ]

"""Server-sent events read from a body as the SSE spec splits it, for tests of streams."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ServerSentEvent", "server_sent_events"]

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
"""The spec's only line breaks: U+2028, U+0085 and the like are text inside a field."""


@dataclass(frozen=True)
class ServerSentEvent:
    """One dispatched event: its name, its data lines joined, and its id when it has one."""

    event: str
    data: str
    id: str | None = None


def server_sent_events(body: str) -> list[ServerSentEvent]:
    """The events of an SSE body, in order, as a client dispatches them.

    Comments are skipped, and so is an event whose data is empty (a stream's priming event,
    which only carries an id).
    """
    events: list[ServerSentEvent] = []
    name, data, event_id = "message", list[str](), None
    for line in [*_LINE_BREAK.split(body), ""]:
        if not line:
            if "\n".join(data):
                events.append(ServerSentEvent(name, "\n".join(data), event_id))
            name, data, event_id = "message", [], None
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "data":
            data.append(value)
        elif field == "event":
            name = value
        elif field == "id":
            event_id = value
    return events

"""A run's log in the state store: bounded past ``max_log_events``, replayed intact."""

from __future__ import annotations

import pytest
from ag_ui.core import TextMessageContentEvent
from agent_framework import Agent
from agent_framework_hosting.testing import OfflineChatClient
from agent_framework_hosting_ag_ui import AGUIChannel

from ._agui import follow_run, post_run, run_input, serving, user_message

TEXT = "a reply long enough to pass the log's cap many times over"


def test_max_log_events_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="max_log_events"):
        AGUIChannel(max_log_events=0)


async def test_a_long_run_s_log_stays_bounded_and_a_reconnect_gets_the_whole_text() -> None:
    cap = 5
    agent = Agent(client=OfflineChatClient(chunk_chars=1), name="chatty")
    async with serving(agent, max_log_events=cap) as (_, client):
        live = await post_run(client, run_input("t", user_message(TEXT), runId="run-1"))
        replay = await follow_run(client, "run-1")
    expected = f"Echo: {TEXT} (turn 1)"
    assert live.text == replay.text == expected
    assert replay.types == live.types
    assert replay.types[-1] == "RUN_FINISHED"
    # Past the cap, the rest of the text is one delta; every other event is still there.
    past_cap = replay.events[cap:]
    assert len([e for e in past_cap if isinstance(e, TextMessageContentEvent)]) == 1
    assert len(replay.events) <= cap + 3  # the cap, the merged rest, the two ends

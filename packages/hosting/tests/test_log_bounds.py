"""`LogBound` and `BoundedLogWriter`: past a cap, a run's deltas are merged, never lost."""

from __future__ import annotations

import pytest
from agent_framework_hosting import BoundedLogWriter, LogBound, MemoryStateStore, RunLog


def merge_same_part(held: str, delta: str) -> str | None:
    """Entries ``"<part>:<text>"``: deltas of one part merge, their texts joined."""
    part, _, text = held.partition(":")
    other, _, more = delta.partition(":")
    return f"{part}:{text}{more}" if part == other else None


def is_delta(entry: str) -> bool:
    return ":" in entry


def test_below_the_cap_every_event_is_logged_as_it_comes() -> None:
    bound = LogBound[str](10, merge_same_part)
    assert [bound.add(event, delta=is_delta(event)) for event in ("start", "a:x", "a:y")] == [
        ["start"],
        ["a:x"],
        ["a:y"],
    ]
    assert bound.release() == []


def test_past_the_cap_deltas_of_one_part_merge_until_another_event() -> None:
    bound = LogBound[str](2, merge_same_part)
    logged = [*bound.add("start", delta=False), *bound.add("a:1", delta=True)]
    assert bound.add("a:2", delta=True) == []
    assert bound.add("a:3", delta=True) == []
    assert bound.add("b:4", delta=True) == ["a:23"]
    assert bound.add("end", delta=False) == ["b:4", "end"]
    assert logged == ["start", "a:1"]
    assert bound.release() == []


def test_a_held_delta_is_released_as_the_log_closes() -> None:
    bound = LogBound[str](1, merge_same_part)
    assert bound.add("a:1", delta=True) == ["a:1"]
    assert bound.add("a:2", delta=True) == []
    assert bound.release() == ["a:2"]


def test_a_cap_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="max_entries"):
        LogBound[str](0, merge_same_part)


async def test_a_long_run_s_log_stays_bounded_and_replays_its_whole_text() -> None:
    log = RunLog(MemoryStateStore(), "t")
    writer = BoundedLogWriter[str](
        await log.open("r", "p"),
        max_entries=5,
        encode=str,
        is_delta=is_delta,
        merge=merge_same_part,
    )
    await writer.append("start")
    text = [f"{n} " for n in range(1000)]
    for chunk in text:
        await writer.append(f"a:{chunk}")
    await writer.append("end")
    await writer.close()
    entries = [entry async for entry in log.follow("r", "p", after=-1, keepalive=3600)]
    assert len(entries) <= 5 + 2  # the cap, the merged rest, the end
    assert entries[0] == "start"
    assert entries[-1] == "end"
    deltas = [entry.partition(":")[2] for entry in entries if entry and is_delta(entry)]
    assert "".join(deltas) == "".join(text)

"""`ConversationSlots`: one live object per isolation key, serialized, bounded, resettable."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from agent_framework_hosting import DiskStateStore, MemoryStateStore, StateStore
from agent_framework_hosting._sessions import (  # pyright: ignore[reportPrivateUsage]
    ConversationBusy,
    ConversationSlots,
    SlotCodec,
    slot_key,
)


@dataclass
class Notes:
    """A stand-in conversation: what was said in it."""

    slot_key: str
    said: list[str] = field(default_factory=list[str])


def notes_from(snapshot: Any) -> Notes:
    return Notes(snapshot["slot_key"], list(snapshot["said"]))


CODEC: SlotCodec[Notes] = SlotCodec(
    create=Notes,
    snapshot=lambda notes: {"slot_key": notes.slot_key, "said": list(notes.said)},
    restore=notes_from,
)


def slots(
    store: StateStore | None = None, *, max_live: int = 8, wait_seconds: float = 300.0
) -> ConversationSlots[Notes]:
    return ConversationSlots(
        CODEC,
        MemoryStateStore() if store is None else store,
        max_live=max_live,
        wait_seconds=wait_seconds,
    )


async def say(conversations: ConversationSlots[Notes], key: str, text: str) -> list[str]:
    """One turn: note ``text`` in ``key``'s conversation and return everything said so far."""
    async with conversations.lease(key) as notes:
        notes.said.append(text)
        return list(notes.said)


async def wait_until(condition: Callable[[], bool]) -> None:
    """Let other tasks run until ``condition`` holds (a bounded number of scheduler turns)."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never held")


async def test_the_same_key_leases_the_same_object() -> None:
    conversations = slots()
    async with conversations.lease("k") as first:
        pass
    async with conversations.lease("k") as second:
        pass
    assert second is first


async def test_a_conversation_accumulates_its_own_turns() -> None:
    conversations = slots()
    await say(conversations, "k", "one")
    assert await say(conversations, "k", "two") == ["one", "two"]


async def test_different_keys_get_different_objects() -> None:
    conversations = slots()
    await say(conversations, "a", "for a")
    assert await say(conversations, "b", "for b") == ["for b"]


async def test_no_more_than_max_live_objects_stay_in_memory() -> None:
    conversations = slots(max_live=1)
    await say(conversations, "a", "a1")
    await say(conversations, "b", "b1")
    assert conversations.live_count == 1


async def test_an_evicted_object_comes_back_on_its_next_turn() -> None:
    conversations = slots(max_live=1)
    await say(conversations, "a", "a1")
    await say(conversations, "b", "b1")
    assert await say(conversations, "a", "a2") == ["a1", "a2"]
    assert conversations.live_count == 1


async def test_a_durable_store_restores_an_evicted_object_from_its_snapshot(
    tmp_path: Path,
) -> None:
    conversations = slots(DiskStateStore(tmp_path), max_live=1)
    await say(conversations, "a", "a1")
    await say(conversations, "b", "b1")
    assert await say(conversations, "a", "a2") == ["a1", "a2"]


async def test_a_durable_store_outlives_the_slots_that_wrote_it(tmp_path: Path) -> None:
    await say(slots(DiskStateStore(tmp_path)), "k", "before")
    assert await say(slots(DiskStateStore(tmp_path)), "k", "after") == ["before", "after"]


async def test_a_leased_object_is_not_evicted_while_in_use() -> None:
    store = MemoryStateStore()
    conversations = slots(store, max_live=1)
    await say(conversations, "a", "a1")  # live in memory, the least recently used next
    async with conversations.lease("a") as held:
        # Past max_live: the other conversation goes, not the one whose turn runs.
        await say(conversations, "b", "b1")
        parked = await store.get("parked:" + slot_key("a", 0))
        held.said.append("a2")
    assert parked is None
    async with conversations.lease("a") as again:
        assert again is held
    assert again.said == ["a1", "a2"]
    assert await say(conversations, "b", "b2") == ["b1", "b2"]


async def test_leases_of_one_key_queue_up() -> None:
    conversations = slots()
    log: list[str] = []
    release = asyncio.Event()

    async def turn(label: str) -> None:
        async with conversations.lease("same"):
            log.append(f"enter {label}")
            if label == "first":
                await release.wait()
            log.append(f"exit {label}")

    first = asyncio.create_task(turn("first"))
    await wait_until(lambda: log == ["enter first"])
    second = asyncio.create_task(turn("second"))
    for _ in range(10):
        await asyncio.sleep(0)
    assert log == ["enter first"]
    release.set()
    await asyncio.gather(first, second)
    assert log == ["enter first", "exit first", "enter second", "exit second"]


async def test_leases_of_different_keys_are_held_at_once() -> None:
    conversations = slots()
    inside: set[str] = set()
    release = asyncio.Event()

    async def turn(key: str) -> None:
        async with conversations.lease(key):
            inside.add(key)
            await release.wait()

    turns = [asyncio.create_task(turn(key)) for key in ("a", "b")]
    await wait_until(lambda: inside == {"a", "b"})
    release.set()
    await asyncio.gather(*turns)


async def test_reset_starts_the_key_from_scratch() -> None:
    conversations = slots()
    await say(conversations, "k", "old")
    await conversations.reset("k")
    assert await say(conversations, "k", "new") == ["new"]


async def test_reset_leaves_other_keys_alone() -> None:
    conversations = slots()
    await say(conversations, "a", "a1")
    await conversations.reset("b")
    assert await say(conversations, "a", "a2") == ["a1", "a2"]


async def test_reset_during_a_lease_does_not_resurrect_the_old_generation() -> None:
    conversations = slots()
    async with conversations.lease("k") as old:
        old.said.append("old")
        await conversations.reset("k")
        old.said.append("written after the reset")
    assert conversations.live_count == 0
    assert await say(conversations, "k", "new") == ["new"]


async def test_reset_of_an_evicted_key_drops_its_stored_object() -> None:
    conversations = slots(max_live=1)
    await say(conversations, "a", "a1")
    await say(conversations, "b", "b1")
    await conversations.reset("a")
    assert await say(conversations, "a", "a2") == ["a2"]


async def test_a_reset_survives_in_a_durable_store(tmp_path: Path) -> None:
    before = slots(DiskStateStore(tmp_path))
    await say(before, "k", "old")
    await before.reset("k")
    assert await say(slots(DiskStateStore(tmp_path)), "k", "new") == ["new"]


def test_max_live_must_be_at_least_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        slots(max_live=0)


async def test_a_session_is_created_with_its_conversation_as_its_id() -> None:
    conversations = slots()
    async with conversations.lease("alice") as notes:
        assert notes.slot_key == "alice"
    await conversations.reset("alice")
    await conversations.reset("alice")
    async with conversations.lease("alice") as notes:
        assert notes.slot_key == "alice#2" == slot_key("alice", 2)


async def test_a_live_copy_behind_the_stored_version_is_not_used(tmp_path: Path) -> None:
    here, there = slots(DiskStateStore(tmp_path)), slots(DiskStateStore(tmp_path))
    await say(here, "k", "one")
    await say(there, "k", "two")
    assert await say(here, "k", "three") == ["one", "two", "three"]
    assert await say(there, "k", "four") == ["one", "two", "three", "four"]


async def test_a_reset_in_another_process_reaches_a_live_copy(tmp_path: Path) -> None:
    here, there = slots(DiskStateStore(tmp_path)), slots(DiskStateStore(tmp_path))
    await say(here, "k", "old")
    await there.reset("k")
    assert await say(here, "k", "new") == ["new"]


async def test_leases_of_one_key_exclude_each_other_across_processes(tmp_path: Path) -> None:
    here, there = slots(DiskStateStore(tmp_path)), slots(DiskStateStore(tmp_path))
    turns = [say(here if n % 2 else there, "k", str(n)) for n in range(10)]
    said = await asyncio.gather(*turns)
    assert sorted(len(everything) for everything in said) == list(range(1, 11))


async def test_a_turn_that_waits_too_long_for_its_conversation_is_refused() -> None:
    conversations = slots(wait_seconds=0.1)
    async with conversations.lease("k"):
        with pytest.raises(ConversationBusy, match="still running"):
            await say(conversations, "k", "too soon")
    assert await say(conversations, "k", "later") == ["later"]


async def test_a_scheduled_reset_is_finished_before_the_next_turn() -> None:
    conversations = slots()
    await say(conversations, "k", "old")
    conversations.schedule_reset("k")
    assert await say(conversations, "k", "new") == ["new"]


async def test_memory_store_forgets_the_least_recently_used_entry_when_full() -> None:
    store = MemoryStateStore(max_entries=2)
    await store.set("a", 1)
    await store.set("b", 2)
    assert await store.get("a") == 1
    await store.set("c", 3)
    assert [await store.get(key) for key in "abc"] == [1, None, 3]


async def test_memory_store_keeps_tuples_inside_dicts() -> None:
    store = MemoryStateStore()
    await store.set("k", {"pair": ("a", "b")})
    assert await store.get("k") == {"pair": ("a", "b")}


async def test_memory_store_keeps_bytes_as_bytes() -> None:
    store = MemoryStateStore()
    await store.set("raw", b"\x80\x05not a pickle")
    assert await store.get("raw") == b"\x80\x05not a pickle"
    assert type(await store.get("raw")) is bytes


async def test_memory_store_refuses_a_value_it_cannot_copy() -> None:
    store = MemoryStateStore()
    with pytest.raises(TypeError):
        await store.set("k", {"lock": threading.Lock()})
    with pytest.raises(TypeError, match="'k' cannot be stored"):
        await store.set("k", {"f": lambda: None})
    assert await store.get("k") is None

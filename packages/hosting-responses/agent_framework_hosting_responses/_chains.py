"""Response chains: what a response continues from, read back from the store or a connection.

A chain runs from a response up its parents. Deleted entries are still read (they are
kept while a descendant follows them); a chain ends at a response that is gone (evicted
from a bounded store, or from a WebSocket connection's cache), or at the stored ancestry
an unstored response copied.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent_framework import Message

from ._connection_cache import ConnectionCache
from ._errors import ResponsesError
from ._input_items import messages_from_responses_input
from ._store import ResponseRecord, ResponseStore

__all__ = ["Chains", "calls_in", "refuse_unmatched", "replayable"]


class Chains:
    """Reads response chains over the channel's response store (and a connection's cache)."""

    def __init__(self, records: ResponseStore) -> None:
        self._records = records

    async def previous(
        self, response_id: str, partition: str | None, cache: ConnectionCache | None = None
    ) -> ResponseRecord:
        """The response a request continues from.

        Raises:
            ResponsesError: ``response_id`` is not a response of ``partition`` (404
                ``previous_response_not_found``).

        """
        # A foreign partition's id is indistinguishable from a missing one.
        previous = await self.record(response_id, partition, cache)
        if previous is None:
            raise ResponsesError(
                f"Previous response with id '{response_id}' not found.",
                param="previous_response_id",
                code="previous_response_not_found",
                status=404,
            )
        return previous

    async def record(
        self, response_id: str, partition: str | None, cache: ConnectionCache | None
    ) -> ResponseRecord | None:
        """A stored response, or an unstored one the connection's cache keeps."""
        record = cache.get(response_id, partition) if cache is not None else None
        return record or await self._records.get(response_id, partition)

    async def entry(
        self, response_id: str, partition: str | None, cache: ConnectionCache | None
    ) -> ResponseRecord | None:
        """:meth:`record`, or a deleted entry kept for what follows it."""
        record = cache.get(response_id, partition) if cache is not None else None
        return record or await self._records.entry(response_id, partition)

    async def transcript(
        self, last: ResponseRecord, cache: ConnectionCache | None
    ) -> list[Message]:
        """The transcript up to ``last``, as messages to hand a new session."""
        items = await self.items_up_to(last, cache)
        return messages_from_responses_input(items) if items else []

    async def items_up_to(
        self, last: ResponseRecord, cache: ConnectionCache | None = None
    ) -> list[dict[str, Any]]:
        """The inputs and outputs of ``last`` and the responses before it, oldest first.

        Deleted entries are replayed like the others; the transcript starts after a
        response that is gone (evicted from a bounded store, or from the connection's
        cache), or at the stored ancestry an unstored response copied.
        """
        chain = [last]
        seen = {last.id}
        while (
            chain[-1].ancestry is None
            and (parent := chain[-1].parent) is not None
            and parent not in seen
        ):
            record = await self.entry(parent, last.partition, cache)
            if record is None:
                break
            seen.add(parent)
            chain.append(record)
        items: list[dict[str, Any]] = list(chain[-1].ancestry or [])
        for record in reversed(chain):
            items.extend(record.input_items)
            items.extend(replayable(record.response["output"]))
        return items

    async def check_answers(
        self,
        answers: Mapping[str, int],
        last: ResponseRecord | None,
        cache: ConnectionCache | None,
    ) -> None:
        """Refuse answers to calls that neither ``last`` nor the responses before it hold.

        A chain cut short (a response evicted from a bounded store) holds calls unknown
        here: the answers then pass.

        Raises:
            ResponsesError: An answer's call is not in the chain (400).

        """
        calls: set[str] = set()
        record, seen = last, set[str]()
        while not answers.keys() <= calls and record is not None:
            calls |= calls_in([*record.input_items, *record.response["output"]])
            if record.ancestry is not None:
                calls |= calls_in(record.ancestry)
                break
            parent = record.parent
            if parent is None or parent in seen:
                break
            seen.add(parent)
            record = await self.entry(parent, record.partition, cache)
            if record is None:
                return
        refuse_unmatched(answers, calls)


def calls_in(items: list[dict[str, Any]]) -> set[str]:
    """The call ids of the function calls among ``items``."""
    return {item["call_id"] for item in items if item.get("type") == "function_call"}


def refuse_unmatched(answers: Mapping[str, int], calls: set[str]) -> None:
    """The 400 (as OpenAI answers it) for the first function call output answering no call."""
    unmatched = [(index, call_id) for call_id, index in answers.items() if call_id not in calls]
    if unmatched:
        index, call_id = min(unmatched)
        raise ResponsesError(
            f"No tool call found for function call output with call_id '{call_id}'.",
            param=f"input[{index}]",
            code="invalid_value",
        )


def replayable(output: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Output items worth replaying: a message without content carries nothing."""
    return [item for item in output if item.get("type") != "message" or item.get("content")]

"""Turns in a conversation object: its session claimed, its items appended, or given back.

A conversation object (``conversation`` on the request) is a mutable head of its own:
each turn continues the conversation's session, first handing it the items added through
the Conversations API since its last turn (or, after an item it saw was deleted, a fresh
session the whole conversation), and a completed turn appends its input and output
items. A turn that produces nothing gives back what it claimed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._chains import calls_in, refuse_unmatched, replayable
from ._conversation_store import (
    ConversationRecord,
    ConversationStore,
    conversation_not_found,
    new_session_key,
)
from ._errors import ResponsesError

__all__ = ["ConversationClaim", "ConversationTurns"]


@dataclass(frozen=True, slots=True)
class ConversationClaim:
    """What a turn in a conversation object took over, and what it gives back on failure.

    Attributes:
        conversation_id: The conversation the turn runs in.
        replayed: The items the turn hands its session before its input.
        displaced: When the turn started a fresh session, the conversation's session and
            synced items before it.

    """

    conversation_id: str
    replayed: list[str]
    displaced: tuple[str, list[str]] | None


class ConversationTurns:
    """Binds turns to the conversation objects of the channel's conversation store."""

    def __init__(self, objects: ConversationStore) -> None:
        self._objects = objects

    async def claim(
        self,
        conversation_id: str,
        partition: str | None,
        inputs: list[dict[str, Any]],
        answers: Mapping[str, int],
    ) -> tuple[ConversationRecord, ConversationClaim, list[dict[str, Any]]]:
        """Claim a conversation object's session for a turn that continues it.

        Returns the conversation as claimed, the claim, and the items to hand the session
        before the turn's input.

        Raises:
            ResponsesError: ``conversation_id`` is not a conversation of ``partition``
                (404), or already holds an input item's id (400); an answer's call is not
                in the conversation (400).

        """

        def claim(record: ConversationRecord) -> tuple[ConversationClaim, list[dict[str, Any]]]:
            ids = {item["id"] for item in record.items}
            known = set(ids)
            for index, item in enumerate(inputs):
                if item["id"] in known:
                    raise ResponsesError(
                        f"input[{index}] has the id '{item['id']}' of another item of the "
                        "conversation: send only new items, each with its own id.",
                        param=f"input[{index}].id",
                        code="invalid_value",
                    )
                known.add(item["id"])
            refuse_unmatched(answers, calls_in(record.items))
            seen = set(record.synced)
            if seen <= ids:
                pending = [item for item in record.items if item["id"] not in seen]
                claimed = ConversationClaim(record.id, [item["id"] for item in pending], None)
                record.synced = [*record.synced, *claimed.replayed]
            else:
                # The session saw an item that was deleted since: start over without it.
                pending = record.items
                displaced = (record.session, record.synced)
                claimed = ConversationClaim(record.id, [item["id"] for item in pending], displaced)
                record.synced, record.session = list(claimed.replayed), new_session_key()
            return claimed, pending

        changed = await self._objects.change(conversation_id, partition, claim)
        if changed is None:
            raise conversation_not_found(conversation_id, param="conversation")
        record, (claimed, pending) = changed
        return record, claimed, pending

    async def append(
        self,
        claimed: ConversationClaim,
        session: str,
        partition: str | None,
        inputs: list[dict[str, Any]],
        response: dict[str, Any],
    ) -> None:
        """Append a completed turn's input and output items to its conversation.

        ``session`` is the session the turn ran in: the conversation's, unless a later
        turn started another since.
        """
        added = [*inputs, *replayable(response["output"])]

        def append(record: ConversationRecord) -> None:
            record.items.extend(added)
            if record.session == session:
                record.synced.extend(item["id"] for item in added)
            if response["store"]:
                record.latest_response = response["id"]

        # Nothing, when the conversation was deleted while the turn ran.
        await self._objects.change(claimed.conversation_id, partition, append)

    async def release(
        self, claimed: ConversationClaim, session: str, partition: str | None
    ) -> None:
        """Undo what a turn claimed: its session never saw the items it was to replay."""

        def release(record: ConversationRecord) -> None:
            if record.session != session:
                return  # a later turn started another session since
            if claimed.displaced is not None:
                record.session, record.synced = claimed.displaced
            else:
                unseen = set(claimed.replayed)
                record.synced = [item_id for item_id in record.synced if item_id not in unseen]

        await self._objects.change(claimed.conversation_id, partition, release)

    async def repoint(
        self, conversation_id: str, partition: str | None, gone: str, kept: str | None
    ) -> None:
        """Name ``kept`` as the conversation's latest response where it named ``gone``."""

        def repoint(record: ConversationRecord) -> None:
            if record.latest_response == gone:
                record.latest_response = kept

        await self._objects.change(conversation_id, partition, repoint)

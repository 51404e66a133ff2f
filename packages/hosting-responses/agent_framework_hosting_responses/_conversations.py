"""Which session a response runs in: continue a conversation, branch from a response, or start one.

Each conversation has a head, its latest response. ``previous_response_id`` naming the
head continues the conversation's session in place, over chains of any length. Naming
an older response branches: a new conversation whose session is handed the transcript
up to that response, so the turn continues from that point and the original
conversation is left as it was. A turn claims the head before it runs, so two requests
continuing the same response at once do not share a session; a turn that produces
nothing gives the head back.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from agent_framework import Message
from agent_framework_hosting import IsolationKeys

from ._errors import ResponsesError
from ._parse import messages_from_responses_input
from ._store import ConversationHead, ResponseRecord, ResponseStore

__all__ = ["Conversations", "Turn"]


@dataclass(frozen=True, slots=True)
class Turn:
    """One response's place in its conversation.

    Attributes:
        response_id: The id of the response.
        conversation: The isolation key of the session the run uses.
        partition: The caller's user key: the response is visible in this partition only.
        parent: The stored response this one follows in its conversation.
        replay: The transcript a branch hands to its new session, before the new input.
        inputs: The request's input items, as stored with the response.
        displaced: The conversation's head before this turn claimed it.

    """

    response_id: str
    conversation: str
    partition: str | None
    parent: str | None
    replay: list[Message]
    inputs: list[dict[str, Any]]
    displaced: ConversationHead | None


class Conversations:
    """Places responses in conversations, over the channel's response store."""

    def __init__(self, records: ResponseStore) -> None:
        self._records = records

    def begin(
        self,
        response_id: str,
        *,
        previous_response_id: str | None,
        keys: IsolationKeys,
        store: bool,
        inputs: list[dict[str, Any]],
    ) -> Turn:
        """Place a new response and claim its conversation's head.

        Raises:
            ResponsesError: ``previous_response_id`` is not a stored response in the
                caller's partition (404 ``previous_response_not_found``).

        """
        partition = keys.user_key
        replay: list[Message] = []
        head: ConversationHead | None = None
        minted = False
        if previous_response_id is not None:
            # A foreign partition's id is indistinguishable from a missing one.
            previous = self._records.get(previous_response_id, partition)
            if previous is None:
                raise ResponsesError(
                    f"Previous response with id '{previous_response_id}' not found.",
                    param="previous_response_id",
                    code="previous_response_not_found",
                    status=404,
                )
            conversation, parent = previous.conversation, previous_response_id
            head = self._records.head(conversation)
            if head is None or head.latest != previous_response_id:
                # The conversation moved on past it (or its head was evicted): branch.
                conversation, head, minted = _new_conversation(), None, True
                replay = self._transcript(previous)
        elif keys.chat_key or keys.user_key:
            conversation = f"responses:{keys.chat_key or keys.user_key}"
            head = self._records.head(conversation)
            parent = head.stored if head is not None else None
        else:
            conversation, parent, minted = _new_conversation(), None, True
        # A new conversation whose response is not stored can never be continued.
        if store or not minted:
            claimed = ConversationHead(latest=response_id, stored=response_id if store else parent)
            self._records.set_head(conversation, claimed)
        return Turn(response_id, conversation, partition, parent, replay, inputs, head)

    def save(self, turn: Turn, response: dict[str, Any]) -> None:
        """Store ``response`` (in any status) as the record of ``turn``."""
        record = ResponseRecord(
            turn.conversation, turn.partition, response, turn.inputs, turn.parent
        )
        self._records.save(record)

    def abandon(self, turn: Turn) -> None:
        """Give the head back to the response ``turn`` followed: the turn produced nothing."""
        head = self._records.head(turn.conversation)
        if head is not None and head.latest == turn.response_id:
            self._records.set_head(turn.conversation, turn.displaced)

    def _transcript(self, last: ResponseRecord) -> list[Message]:
        """The inputs and outputs of ``last`` and the stored responses before it, oldest first.

        The transcript starts after a response that is no longer stored (deleted, or
        evicted from a bounded store).
        """
        chain = [last]
        seen = {last.response["id"]}
        while (parent := chain[-1].parent) is not None and parent not in seen:
            record = self._records.get(parent, last.partition)
            if record is None:
                break
            seen.add(parent)
            chain.append(record)
        items: list[dict[str, Any]] = []
        for record in reversed(chain):
            items.extend(record.input_items)
            items.extend(_replayable(record.response["output"]))
        return messages_from_responses_input(items) if items else []


def _replayable(output: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Output items worth replaying: a message without content carries nothing."""
    return [item for item in output if item.get("type") != "message" or item.get("content")]


def _new_conversation() -> str:
    # A different prefix from header keys: no header value can name a minted one.
    return f"responses+{secrets.token_hex(16)}"

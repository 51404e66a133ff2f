"""Which session a response runs in: continue a conversation, branch from a response, or start one.

Each conversation has a head, its latest response. ``previous_response_id`` naming the
head continues the conversation's session in place, over chains of any length. Naming
an older response branches: a new conversation whose session is handed the transcript
up to that response (read by ``_chains``), so the turn continues from that point and the
original conversation is left as it was. A turn claims the head before it runs, so two
requests continuing the same response at once do not share a session; a turn that
produces nothing gives the head back. How long the responses a turn continues from stay
is ``_retention``'s.

A turn naming a conversation object (``conversation`` on the request) runs in that
conversation's session (see ``_conversation_turns``). ``previous_response_id`` naming a
response made in a conversation branches from it, outside the conversation.

A turn on a WebSocket connection names the connection's cache: a ``store: false``
response is then kept there, and can be continued (or branched from) on that connection
only; a conversation such a response starts keeps its head there too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from agent_framework import Message
from agent_framework_hosting import Caller, IsolationKeys, Principal, partition_key

from ._chains import Chains, replayable
from ._connection_cache import ConnectionCache
from ._conversation_store import ConversationStore, new_session_key
from ._conversation_turns import ConversationClaim, ConversationTurns
from ._errors import INTERRUPTED, ResponsesError
from ._input_items import messages_from_responses_input
from ._retention import Retention
from ._store import RUNNING, ConversationHead, ResponseRecord, ResponseStore

__all__ = ["Conversations", "Turn", "responses_isolation_key"]

_CLAIM_ATTEMPTS = 64
"""How often a turn looks again at a head other turns keep claiming first."""


@dataclass(frozen=True, slots=True)
class Turn:
    """One response's place in its conversation.

    Attributes:
        response_id: The id of the response.
        conversation: The isolation key of the session the run uses.
        partition: The caller's partition (``Caller.partition``): the response is
            visible in this partition only.
        parent: The stored response this one follows in its conversation.
        replay: The transcript a branch hands to its new session, before the new input.
        inputs: The request's input items, as stored with the response.
        displaced: The conversation's head before this turn claimed it.
        claimed: For a turn in a conversation object, what it claimed of it.
        cache: For a turn on a WebSocket connection, the connection's cache.
        store: Whether the response is stored (it then holds its parent).
        ancestry: For an unstored response of a WebSocket connection whose parent is
            stored, the transcript up to that parent.
        continued: Whether a later turn can continue the run's session. An unstored
            response that starts a conversation over HTTP cannot be continued, so its
            run keeps no session.

    """

    response_id: str
    conversation: str
    partition: str | None
    parent: str | None
    replay: list[Message]
    inputs: list[dict[str, Any]]
    displaced: ConversationHead | None
    claimed: ConversationClaim | None = None
    cache: ConnectionCache | None = None
    store: bool = False
    ancestry: list[dict[str, Any]] | None = None
    continued: bool = True


class Conversations:
    """Places responses in conversations, over the channel's response store.

    Heads move by versioned writes: of two turns that claim one head at once (in this
    process or another sharing the store), one continues the conversation and the other
    branches from the response it named.
    """

    def __init__(self, records: ResponseStore, objects: ConversationStore) -> None:
        self._records = records
        self._chains = Chains(records)
        self._conversation_turns = ConversationTurns(objects)
        self._retention = Retention(records, self._chains, self._conversation_turns)

    async def begin(
        self,
        response_id: str,
        *,
        previous_response_id: str | None,
        caller: Caller,
        store: bool,
        inputs: list[dict[str, Any]],
        conversation: str | None = None,
        cache: ConnectionCache | None = None,
        answers: Mapping[str, int] | None = None,
    ) -> Turn:
        """Place a new response and claim its conversation's head.

        With ``cache`` (a WebSocket connection's), ``previous_response_id`` may also name
        an unstored response of that connection. ``answers`` maps the call id of each
        function call output of the input whose call the input does not hold to its
        index: each must answer a call of the conversation continued.

        Raises:
            ResponsesError: ``previous_response_id`` is not a stored response in the
                caller's partition (404 ``previous_response_not_found``); ``conversation``
                is not a conversation in the caller's partition (404), or already holds
                an input item's id (400); an answer's call is not in the conversation
                (400).

        """
        partition = caller.partition
        answers = answers or {}
        if conversation is not None:
            return await self._begin_in(
                conversation, response_id, partition, inputs, store, cache, answers
            )
        previous = (
            None
            if previous_response_id is None
            else await self._chains.previous(previous_response_id, partition, cache)
        )
        for _ in range(_CLAIM_ATTEMPTS):
            replay: list[Message] = []
            head: ConversationHead | None = None
            version: int | None = None
            minted = False
            parent: str | None = None
            if previous is not None:
                await self._chains.check_answers(answers, previous, cache)
                conversation, parent = previous.conversation, previous.id
                head, version = await self._head(conversation, cache)
                if head is None or head.latest != previous.id:
                    # The conversation moved on past it (or its head was evicted): branch.
                    conversation, head, version, minted = new_session_key(), None, None, True
                    replay = await self._chains.transcript(previous, cache)
            elif not caller.keys.is_empty:
                conversation = responses_isolation_key(caller.keys, caller.principal)
                head, version = await self._head(conversation, cache)
                parent = head.stored if head is not None else None
                # An unstored latest turn left its calls in the session only: unknown here.
                if head is None or head.latest == head.stored:
                    last = await self._records.entry(parent, partition) if parent else None
                    if parent is None or last is not None:
                        await self._chains.check_answers(answers, last, cache)
            else:
                await self._chains.check_answers(answers, None, cache)
                conversation, minted = new_session_key(), True
            claimed = ConversationHead(latest=response_id, stored=response_id if store else parent)
            continued = True
            if store or not minted:
                if not await self._claim(conversation, claimed, version, cache):
                    continue  # another turn claimed it first: look again
            elif cache is not None:
                # A new conversation whose response is not stored: only its connection can
                # continue it (over HTTP nothing can).
                cache.set_head(conversation, claimed)
            else:
                continued = False
            return Turn(
                response_id,
                conversation,
                partition,
                parent,
                replay,
                inputs,
                head,
                cache=cache,
                store=store,
                ancestry=await self._retention.hold(parent, response_id, partition, store, cache),
                continued=continued,
            )
        raise ResponsesError(
            "Other turns of this conversation keep starting first; retry shortly.",
            code="conversation_locked",
            status=409,
        )

    async def save(self, turn: Turn, response: dict[str, Any]) -> None:
        """Record ``response`` (in any status) of ``turn``.

        A stored response is kept as the turn's record, an unstored one of a WebSocket
        turn in its connection's cache; a turn in a conversation object that produced
        output (completed, or cut at the token limit) appends its items to the
        conversation, stored or not. A response deleted while it ran stays deleted, and
        goes once its run has ended and nothing follows it.
        """
        record = ResponseRecord(
            turn.conversation,
            turn.partition,
            response,
            turn.inputs,
            turn.parent,
            ancestry=turn.ancestry,
        )
        if response["store"]:
            visible = await self._records.save(record)
            if not visible and response["status"] not in RUNNING:
                await self._retention.collect(turn.response_id, turn.partition)
        elif turn.cache is not None:
            turn.cache.save(record)
        if turn.claimed is not None and response["status"] in ("completed", "incomplete"):
            await self._conversation_turns.append(
                turn.claimed, turn.conversation, turn.partition, turn.inputs, response
            )

    async def settle(self, turn: Turn, response: dict[str, Any]) -> None:
        """Record the failed or cancelled ``response`` of ``turn``; the head goes back."""
        await self._give_back(turn)
        await self.save(turn, response)

    async def settle_interrupted(self, response_id: str) -> dict[str, Any] | None:
        """Record the still running ``response_id`` as failed: its process died.

        What it had claimed goes back as far as the stored record tells: its
        conversation's head returns to the response it followed. Returns the failed
        response, or ``None`` when it is not running (any more).
        """
        record = await self._records.load(response_id)
        if record is None or record.response["status"] not in RUNNING:
            return None
        failed = {
            **record.response,
            "status": "failed",
            "error": {"code": "server_error", "message": INTERRUPTED},
        }
        if await self._records.save(replace(record, response=failed)) is False:
            await self._retention.collect(response_id, record.partition)
        head, version = await self._records.head(record.conversation)
        if head is not None and head.latest == response_id:
            back = None if record.parent is None else ConversationHead(record.parent, record.parent)
            await self._records.claim_head(record.conversation, back, version=version)
        return failed

    async def abandon(self, turn: Turn) -> None:
        """Give back what ``turn`` claimed, its head and its parent: it produced nothing."""
        await self._give_back(turn)
        if turn.store and turn.parent is not None:
            await self._retention.let_go(turn.parent, turn.response_id, turn.partition)

    async def delete(self, response_id: str, partition: str | None) -> bool:
        """Delete the stored response ``response_id`` in ``partition``; whether it was there.

        It is gone for its callers at once. It stays as a deleted entry while stored
        responses follow it, or while its own run goes on, so those keep their context.
        """
        return await self._retention.delete(response_id, partition)

    async def _give_back(self, turn: Turn) -> None:
        """Give the head back to the response ``turn`` followed."""
        if turn.claimed is not None:
            await self._conversation_turns.release(turn.claimed, turn.conversation, turn.partition)
            return
        cache = turn.cache
        if cache is not None and cache.holds(turn.conversation):
            head = cache.head(turn.conversation)
            if head is not None and head.latest == turn.response_id:
                cache.set_head(turn.conversation, turn.displaced)
            return
        head, version = await self._records.head(turn.conversation)
        # Only while it is still this turn's: a later turn that claimed it keeps it.
        if head is not None and head.latest == turn.response_id:
            await self._records.claim_head(turn.conversation, turn.displaced, version=version)

    async def _begin_in(
        self,
        conversation_id: str,
        response_id: str,
        partition: str | None,
        inputs: list[dict[str, Any]],
        store: bool,
        cache: ConnectionCache | None,
        answers: Mapping[str, int],
    ) -> Turn:
        """Claim a conversation object's session for a turn that continues it."""
        record, claimed, pending = await self._conversation_turns.claim(
            conversation_id, partition, inputs, answers
        )
        replay = messages_from_responses_input(replayable(pending)) if pending else []
        parent = record.latest_response
        return Turn(
            response_id,
            record.session,
            partition,
            parent,
            replay,
            inputs,
            None,
            claimed,
            cache=cache,
            store=store,
            ancestry=await self._retention.hold(parent, response_id, partition, store, cache),
        )

    async def transcript_items(
        self, response_id: str, partition: str | None
    ) -> list[dict[str, Any]]:
        """The items of the conversation up to the stored response ``response_id``.

        Raises:
            ResponsesError: ``response_id`` is not a stored response in ``partition``
                (404 ``previous_response_not_found``).

        """
        return await self._chains.items_up_to(await self._chains.previous(response_id, partition))

    async def _head(
        self, conversation: str, cache: ConnectionCache | None
    ) -> tuple[ConversationHead | None, int | None]:
        """The head of ``conversation`` and its version (none for a connection's own)."""
        if cache is not None and cache.holds(conversation):
            return cache.head(conversation), None
        return await self._records.head(conversation)

    async def _claim(
        self,
        conversation: str,
        head: ConversationHead,
        version: int | None,
        cache: ConnectionCache | None,
    ) -> bool:
        """Move the head to ``head`` if it is still at ``version``; whether it moved."""
        if cache is not None and cache.holds(conversation):
            cache.set_head(conversation, head)
            return True
        return await self._records.claim_head(conversation, head, version=version)


def responses_isolation_key(keys: IsolationKeys, principal: Principal | None = None) -> str:
    """The conversation a caller with isolation keys and no other reference continues.

    ``responses:<partition>``, the principal (if any) and both keys taking part (see
    ``partition_key``): no two different callers ever name the same conversation. Pass
    it to ``host.reset_session`` to start such a caller's conversation over.
    """
    return f"responses:{partition_key(principal, keys)}"

"""Which session a response runs in: continue a conversation, branch from a response, or start one.

Each conversation has a head, its latest response. ``previous_response_id`` naming the
head continues the conversation's session in place, over chains of any length. Naming
an older response branches: a new conversation whose session is handed the transcript
up to that response, so the turn continues from that point and the original
conversation is left as it was. A turn claims the head before it runs, so two requests
continuing the same response at once do not share a session; a turn that produces
nothing gives the head back.

What a response continues from is fixed when it is made: each stored response is held
by the stored responses that follow it, so deleting one leaves it a deleted entry (see
``_store``) for as long as a descendant replays it, and the descendants' branches keep
their whole context. An unstored response a WebSocket connection keeps holds a copy of
its stored ancestry instead. A conversation head naming a response that goes moves to
the nearest response still kept before it.

A conversation object (``conversation`` on the request) is a mutable head of its own:
each turn continues the conversation's session, first handing it the items added through
the Conversations API since its last turn (or, after an item it saw was deleted, a fresh
session the whole conversation), and a completed turn appends its input and output
items. ``previous_response_id`` naming a response made in a conversation branches from
it, outside the conversation.

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

from ._connection_cache import ConnectionCache
from ._conversation_store import (
    ConversationRecord,
    ConversationStore,
    conversation_not_found,
    new_session_key,
)
from ._errors import INTERRUPTED, ResponsesError
from ._input_items import messages_from_responses_input
from ._store import RUNNING, ConversationHead, ResponseRecord, ResponseStore

__all__ = ["ConversationClaim", "Conversations", "Turn", "responses_isolation_key"]

_CLAIM_ATTEMPTS = 64
"""How often a turn looks again at a head other turns keep claiming first."""


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
        self._objects = objects

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
            else await self._previous(previous_response_id, partition, cache)
        )
        for _ in range(_CLAIM_ATTEMPTS):
            replay: list[Message] = []
            head: ConversationHead | None = None
            version: int | None = None
            minted = False
            parent: str | None = None
            if previous is not None:
                await self._check_answers(answers, previous, cache)
                conversation, parent = previous.conversation, previous.id
                head, version = await self._head(conversation, cache)
                if head is None or head.latest != previous.id:
                    # The conversation moved on past it (or its head was evicted): branch.
                    conversation, head, version, minted = new_session_key(), None, None, True
                    replay = await self._transcript(previous, cache)
            elif not caller.keys.is_empty:
                conversation = responses_isolation_key(caller.keys, caller.principal)
                head, version = await self._head(conversation, cache)
                parent = head.stored if head is not None else None
                # An unstored latest turn left its calls in the session only: unknown here.
                if head is None or head.latest == head.stored:
                    last = await self._records.entry(parent, partition) if parent else None
                    if parent is None or last is not None:
                        await self._check_answers(answers, last, cache)
            else:
                await self._check_answers(answers, None, cache)
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
                ancestry=await self._hold(parent, response_id, partition, store, cache),
                continued=continued,
            )
        raise ResponsesError(
            "Other turns of this conversation keep starting first; retry shortly.",
            code="conversation_locked",
            status=409,
        )

    async def _hold(
        self,
        parent: str | None,
        response_id: str,
        partition: str | None,
        store: bool,
        cache: ConnectionCache | None,
    ) -> list[dict[str, Any]] | None:
        """Hold what a new response continues from: its parent, or a copy of its ancestry.

        A stored response holds its stored parent from the start, so deleting the parent
        while the turn runs does not take its context away. An unstored response of a
        WebSocket connection whose parent is stored gets the transcript up to that parent
        (returned), as it is now.
        """
        if parent is None:
            return None
        if store:
            await self._records.adopt(parent, response_id, partition)
        elif cache is not None and cache.get(parent, partition) is None:
            stored = await self._records.entry(parent, partition)
            return await self._items_up_to(stored) if stored is not None else None
        return None

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
                await self._collect(turn.response_id, turn.partition)
        elif turn.cache is not None:
            turn.cache.save(record)
        if turn.claimed is not None and response["status"] in ("completed", "incomplete"):
            await self._append(turn, turn.claimed, response)

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
            await self._collect(response_id, record.partition)
        head, version = await self._records.head(record.conversation)
        if head is not None and head.latest == response_id:
            back = None if record.parent is None else ConversationHead(record.parent, record.parent)
            await self._records.claim_head(record.conversation, back, version=version)
        return failed

    async def abandon(self, turn: Turn) -> None:
        """Give back what ``turn`` claimed, its head and its parent: it produced nothing."""
        await self._give_back(turn)
        if turn.store and turn.parent is not None:
            await self._records.disown(turn.parent, turn.response_id, turn.partition)
            await self._collect(turn.parent, turn.partition)

    async def delete(self, response_id: str, partition: str | None) -> bool:
        """Delete the stored response ``response_id`` in ``partition``; whether it was there.

        It is gone for its callers at once. It stays as a deleted entry while stored
        responses follow it, or while its own run goes on, so those keep their context.
        """
        if await self._records.get(response_id, partition) is None:
            return False
        await self._records.mark_deleted(response_id)
        await self._collect(response_id, partition)
        return True

    async def _collect(self, response_id: str, partition: str | None) -> None:
        """Remove the deleted entries nothing holds, from ``response_id`` up its chain.

        A conversation head naming a removed response moves to the nearest one kept
        before it.
        """
        entry = await self._records.entry(response_id, partition)
        removed: list[ResponseRecord] = []
        while (
            entry is not None
            and entry.deleted
            and not entry.children
            and entry.response["status"] not in RUNNING
        ):
            await self._records.remove(entry.id)
            removed.append(entry)
            parent = entry.parent
            entry = await self._records.disown(parent, entry.id, partition) if parent else None
        kept = entry.id if entry is not None else None
        for gone in removed:
            await self._repoint(gone, kept)

    async def _repoint(self, gone: ResponseRecord, kept: str | None) -> None:
        """Move the heads that name ``gone`` as their latest stored response to ``kept``."""
        while True:
            head, version = await self._records.head(gone.conversation)
            if head is None or head.stored != gone.id:
                break
            moved = replace(head, stored=kept)
            if await self._records.claim_head(gone.conversation, moved, version=version):
                break
        conversation: Any = gone.response.get("conversation")
        if conversation is None:
            return

        def repoint(record: ConversationRecord) -> None:
            if record.latest_response == gone.id:
                record.latest_response = kept

        await self._objects.change(conversation["id"], gone.partition, repoint)

    async def _give_back(self, turn: Turn) -> None:
        """Give the head back to the response ``turn`` followed."""
        if turn.claimed is not None:
            await self._release(turn, turn.claimed)
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
            _refuse_unmatched(answers, _calls_in(record.items))
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
        replay = messages_from_responses_input(_replayable(pending)) if pending else []
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
            ancestry=await self._hold(parent, response_id, partition, store, cache),
        )

    async def _append(
        self, turn: Turn, claimed: ConversationClaim, response: dict[str, Any]
    ) -> None:
        """Append a completed turn's input and output items to its conversation."""
        added = [*turn.inputs, *_replayable(response["output"])]

        def append(record: ConversationRecord) -> None:
            record.items.extend(added)
            if record.session == turn.conversation:
                record.synced.extend(item["id"] for item in added)
            if response["store"]:
                record.latest_response = response["id"]

        # Nothing, when the conversation was deleted while the turn ran.
        await self._objects.change(claimed.conversation_id, turn.partition, append)

    async def _release(self, turn: Turn, claimed: ConversationClaim) -> None:
        """Undo what ``turn`` claimed: its session never saw the items it was to replay."""

        def release(record: ConversationRecord) -> None:
            if record.session != turn.conversation:
                return  # a later turn started another session since
            if claimed.displaced is not None:
                record.session, record.synced = claimed.displaced
            else:
                unseen = set(claimed.replayed)
                record.synced = [item_id for item_id in record.synced if item_id not in unseen]

        await self._objects.change(claimed.conversation_id, turn.partition, release)

    async def _check_answers(
        self,
        answers: Mapping[str, int],
        last: ResponseRecord | None,
        cache: ConnectionCache | None,
    ) -> None:
        """Refuse answers to calls that neither ``last`` nor the responses before it hold.

        A chain cut short (a response evicted from a bounded store) holds calls unknown
        here: the answers then pass.
        """
        calls: set[str] = set()
        record, seen = last, set[str]()
        while not answers.keys() <= calls and record is not None:
            calls |= _calls_in([*record.input_items, *record.response["output"]])
            if record.ancestry is not None:
                calls |= _calls_in(record.ancestry)
                break
            parent = record.parent
            if parent is None or parent in seen:
                break
            seen.add(parent)
            record = await self._entry(parent, record.partition, cache)
            if record is None:
                return
        _refuse_unmatched(answers, calls)

    async def transcript_items(
        self, response_id: str, partition: str | None
    ) -> list[dict[str, Any]]:
        """The items of the conversation up to the stored response ``response_id``.

        Raises:
            ResponsesError: ``response_id`` is not a stored response in ``partition``
                (404 ``previous_response_not_found``).

        """
        return await self._items_up_to(await self._previous(response_id, partition))

    async def _previous(
        self, response_id: str, partition: str | None, cache: ConnectionCache | None = None
    ) -> ResponseRecord:
        """The response a request continues from (404 when it is not the caller's)."""
        # A foreign partition's id is indistinguishable from a missing one.
        previous = await self._record(response_id, partition, cache)
        if previous is None:
            raise ResponsesError(
                f"Previous response with id '{response_id}' not found.",
                param="previous_response_id",
                code="previous_response_not_found",
                status=404,
            )
        return previous

    async def _transcript(
        self, last: ResponseRecord, cache: ConnectionCache | None
    ) -> list[Message]:
        """The transcript up to ``last``, as messages to hand a new session."""
        items = await self._items_up_to(last, cache)
        return messages_from_responses_input(items) if items else []

    async def _items_up_to(
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
            record = await self._entry(parent, last.partition, cache)
            if record is None:
                break
            seen.add(parent)
            chain.append(record)
        items: list[dict[str, Any]] = list(chain[-1].ancestry or [])
        for record in reversed(chain):
            items.extend(record.input_items)
            items.extend(_replayable(record.response["output"]))
        return items

    async def _record(
        self, response_id: str, partition: str | None, cache: ConnectionCache | None
    ) -> ResponseRecord | None:
        """A stored response, or an unstored one the connection's cache keeps."""
        record = cache.get(response_id, partition) if cache is not None else None
        return record or await self._records.get(response_id, partition)

    async def _entry(
        self, response_id: str, partition: str | None, cache: ConnectionCache | None
    ) -> ResponseRecord | None:
        """:meth:`_record`, or a deleted entry kept for what follows it."""
        record = cache.get(response_id, partition) if cache is not None else None
        return record or await self._records.entry(response_id, partition)

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


def _calls_in(items: list[dict[str, Any]]) -> set[str]:
    return {item["call_id"] for item in items if item.get("type") == "function_call"}


def _refuse_unmatched(answers: Mapping[str, int], calls: set[str]) -> None:
    """The 400 (as OpenAI answers it) for the first function call output answering no call."""
    unmatched = [(index, call_id) for call_id, index in answers.items() if call_id not in calls]
    if unmatched:
        index, call_id = min(unmatched)
        raise ResponsesError(
            f"No tool call found for function call output with call_id '{call_id}'.",
            param=f"input[{index}]",
            code="invalid_value",
        )


def _replayable(output: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Output items worth replaying: a message without content carries nothing."""
    return [item for item in output if item.get("type") != "message" or item.get("content")]

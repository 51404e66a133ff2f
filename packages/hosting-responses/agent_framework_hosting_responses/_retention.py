"""How long a stored response stays: held by what follows it, collected when nothing does.

What a response continues from is fixed when it is made: each stored response is held by
the stored responses that follow it, so deleting one leaves it a deleted entry (see
``_store``) for as long as a descendant replays it, and the descendants' branches keep
their whole context. An unstored response a WebSocket connection keeps holds a copy of
its stored ancestry instead. A conversation head naming a response that goes moves to
the nearest response still kept before it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ._chains import Chains
from ._connection_cache import ConnectionCache
from ._conversation_turns import ConversationTurns
from ._store import RUNNING, ResponseRecord, ResponseStore

__all__ = ["Retention"]


class Retention:
    """Holds, deletes and collects the stored responses of the channel's response store."""

    def __init__(
        self, records: ResponseStore, chains: Chains, conversation_turns: ConversationTurns
    ) -> None:
        self._records = records
        self._chains = chains
        self._conversation_turns = conversation_turns

    async def hold(
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
            return await self._chains.items_up_to(stored) if stored is not None else None
        return None

    async def let_go(self, parent: str, response_id: str, partition: str | None) -> None:
        """``response_id`` produced nothing: it no longer holds ``parent``."""
        await self._records.disown(parent, response_id, partition)
        await self.collect(parent, partition)

    async def delete(self, response_id: str, partition: str | None) -> bool:
        """Delete the stored response ``response_id`` in ``partition``; whether it was there.

        It is gone for its callers at once. It stays as a deleted entry while stored
        responses follow it, or while its own run goes on, so those keep their context.
        """
        if await self._records.get(response_id, partition) is None:
            return False
        await self._records.mark_deleted(response_id)
        await self.collect(response_id, partition)
        return True

    async def collect(self, response_id: str, partition: str | None) -> None:
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
        if conversation is not None:
            await self._conversation_turns.repoint(
                conversation["id"], gone.partition, gone.id, kept
            )

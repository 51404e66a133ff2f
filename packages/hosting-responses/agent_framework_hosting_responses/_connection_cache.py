"""What one WebSocket connection keeps of its ``store: false`` responses, and nothing else does.

A response created with ``store: false`` is written nowhere, so over HTTP it can never be
continued. On a WebSocket connection it can: the connection keeps its record here (to
continue it, or branch from it), and keeps the head of each conversation such a response
started. Stored responses are not kept here; the store serves them to every connection.
The cache is bounded and goes with the connection.
"""

from __future__ import annotations

from collections import OrderedDict

from ._store import ConversationHead, ResponseRecord

__all__ = ["ConnectionCache"]


class ConnectionCache:
    """The unstored responses of one WebSocket connection, the least recently used going first.

    Past ``max_responses`` records the least recently used one is dropped, together with
    the heads that name it as their latest response: a conversation whose latest response
    is gone can only be started again.
    """

    def __init__(self, max_responses: int) -> None:
        self._max_responses = max_responses
        self._records: OrderedDict[str, ResponseRecord] = OrderedDict()
        self._heads: OrderedDict[str, ConversationHead] = OrderedDict()

    def save(self, record: ResponseRecord) -> None:
        """Keep ``record`` under its response id."""
        response_id = record.response["id"]
        self._records[response_id] = record
        self._records.move_to_end(response_id)
        while len(self._records) > self._max_responses:
            evicted, _ = self._records.popitem(last=False)
            self._drop_heads_of(evicted)

    def get(self, response_id: str, partition: str | None) -> ResponseRecord | None:
        """The record of ``response_id`` if this connection keeps it in ``partition``."""
        record = self._records.get(response_id)
        if record is None or record.partition != partition:
            return None
        self._records.move_to_end(response_id)
        return record

    def evict(self, response_id: str) -> None:
        """Forget ``response_id``: continuing from it fails from now on."""
        self._records.pop(response_id, None)
        self._drop_heads_of(response_id)

    def holds(self, conversation: str) -> bool:
        """Whether the head of ``conversation`` lives on this connection."""
        return conversation in self._heads

    def head(self, conversation: str) -> ConversationHead | None:
        """The head of a conversation this connection holds."""
        return self._heads.get(conversation)

    def set_head(self, conversation: str, head: ConversationHead | None) -> None:
        """Hold the head of ``conversation`` on this connection; ``None`` forgets it."""
        if head is None:
            self._heads.pop(conversation, None)
            return
        self._heads[conversation] = head
        self._heads.move_to_end(conversation)
        while len(self._heads) > self._max_responses:
            self._heads.popitem(last=False)

    def _drop_heads_of(self, response_id: str) -> None:
        stale = [key for key, head in self._heads.items() if head.latest == response_id]
        for key in stale:
            del self._heads[key]

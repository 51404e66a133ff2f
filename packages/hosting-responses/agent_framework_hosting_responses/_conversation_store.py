"""Conversation objects (the Conversations API) in the host's state store.

A conversation holds its items in order: the items added through the API and the input
and output items of every response made in it. Its turns run in one session of the
host; ``synced`` lists the items that session has seen, so a turn hands the session only
what it has not seen yet, and a fresh session the whole conversation once an item the
session saw was deleted. Records are partitioned by the caller's user key; a foreign
partition's record reads as missing.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from agent_framework_hosting import StateStore, update_state

from ._errors import ResponsesError

__all__ = ["ConversationRecord", "ConversationStore", "conversation_not_found", "new_session_key"]

_PREFIX = "responses:conversation:"

T = TypeVar("T")


def new_session_key() -> str:
    """A session key out of reach of header values (they are prefixed ``responses:``)."""
    return f"responses+{secrets.token_hex(16)}"


def conversation_not_found(conversation_id: str, *, param: str) -> ResponsesError:
    """The 404 for a conversation that is missing, or in another partition."""
    return ResponsesError(
        f"Conversation with id '{conversation_id}' not found.",
        param=param,
        code="not_found",
        status=404,
    )


@dataclass(slots=True)
class ConversationRecord:
    """A stored conversation.

    Attributes:
        id: The ``conv_<hex>`` id callers use.
        partition: The owner's user key: the conversation is visible in this partition only.
        created_at: Unix seconds.
        metadata: Up to 16 string pairs.
        items: The conversation's items, oldest first, each with a unique ``id``.
        session: The isolation key of the session its turns run in.
        synced: The ids of the items that session has seen.
        latest_response: The latest stored response made in it (the next one's parent).

    """

    id: str
    partition: str | None
    created_at: int = field(default_factory=lambda: int(time.time()))
    metadata: dict[str, str] = field(default_factory=dict[str, str])
    items: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    session: str = field(default_factory=new_session_key)
    synced: list[str] = field(default_factory=list[str])
    latest_response: str | None = None

    def wire(self) -> dict[str, Any]:
        """The ``conversation`` object."""
        return {
            "id": self.id,
            "object": "conversation",
            "created_at": self.created_at,
            "metadata": dict(self.metadata),
        }

    def item(self, item_id: str) -> dict[str, Any] | None:
        """The item with ``item_id``, or ``None``."""
        return next((item for item in self.items if item["id"] == item_id), None)


class ConversationStore:
    """Reads and writes conversation records; a foreign partition's record reads as missing.

    Changes are versioned writes: processes sharing the store never undo each other's.
    """

    def __init__(self, store: StateStore) -> None:
        self._store = store

    async def create(
        self,
        partition: str | None,
        *,
        metadata: dict[str, str],
        items: list[dict[str, Any]],
    ) -> ConversationRecord:
        """Store a new conversation with a fresh id."""
        record = ConversationRecord(
            id=f"conv_{secrets.token_hex(24)}", partition=partition, metadata=metadata, items=items
        )
        await self._store.set(_PREFIX + record.id, _fields(record))
        return record

    async def get(self, conversation_id: str, partition: str | None) -> ConversationRecord | None:
        """The record of ``conversation_id`` if it exists in ``partition``."""
        return _record(conversation_id, partition, await self._store.get(_PREFIX + conversation_id))

    async def change(
        self,
        conversation_id: str,
        partition: str | None,
        change: Callable[[ConversationRecord], T],
    ) -> tuple[ConversationRecord, T] | None:
        """Apply ``change`` to the record in place and store it, unless another write came first.

        ``change`` may run more than once (on the newer record each time); what it returns
        from its last run is returned with the stored record. ``None`` when the
        conversation does not exist in ``partition``; ``change`` may raise to store
        nothing.
        """
        outcome: tuple[ConversationRecord, T] | None = None

        def apply(raw: Any) -> Any:
            nonlocal outcome
            record = _record(conversation_id, partition, raw)
            if record is None:
                outcome = None
                return raw
            outcome = (record, change(record))
            return _fields(record)

        await update_state(self._store, _PREFIX + conversation_id, apply)
        return outcome

    async def delete(self, conversation_id: str, partition: str | None) -> bool:
        """Delete the record if it exists in ``partition``; whether it did."""
        if await self.get(conversation_id, partition) is None:
            return False
        await self._store.delete(_PREFIX + conversation_id)
        return True


def _fields(record: ConversationRecord) -> dict[str, Any]:
    return {
        "partition": record.partition,
        "created_at": record.created_at,
        "metadata": record.metadata,
        "items": record.items,
        "session": record.session,
        "synced": record.synced,
        "latest_response": record.latest_response,
    }


def _record(conversation_id: str, partition: str | None, raw: Any) -> ConversationRecord | None:
    if not isinstance(raw, Mapping):
        return None
    fields = cast("Mapping[str, Any]", raw)
    if fields.get("partition") != partition:
        return None
    return ConversationRecord(
        id=conversation_id,
        partition=fields["partition"],
        created_at=fields["created_at"],
        metadata=dict(fields["metadata"]),
        items=list(fields["items"]),
        session=fields["session"],
        synced=list(fields["synced"]),
        latest_response=fields.get("latest_response"),
    )

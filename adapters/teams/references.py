"""Conversation references: what a proactive send needs to reach a person's chat. They are kept
in storage (the `reference` of the person's Teams identity, through `storage.identities`), never
only in memory, so any process can reach anyone after a restart.

The stored JSON is `{"conversation_reference": <ConversationReference.serialize()>,
"service_url": ..., "tenant_id": ..., "conversation_id": ..., "stored_at": ...}`.

Every activity carries the sender's reference, but it rarely changes; `Remembered` is what this
process last stored (or found stored) for each user, so that an activity with the same reference
costs no database work, only its reply's one statement in the inbox.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any

PLATFORM = "teams"
NOT_INSTALLED = "Teams app not installed for this person"
# When it was stored is not part of what it says.
IGNORED = ("stored_at",)


def stored(
    conversation_reference: dict[str, Any], service_url: str | None, tenant_id: str | None, now: datetime
) -> dict[str, Any]:
    conversation = conversation_reference.get("conversation") or {}
    return {
        "conversation_reference": conversation_reference,
        "service_url": service_url,
        "tenant_id": tenant_id,
        "conversation_id": conversation.get("id"),
        "stored_at": now.isoformat(),
    }


def _content(reference: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in reference.items() if k not in IGNORED}


class Remembered:
    """Which reference this process knows is stored for each Teams user, and whose it is.

    Only a hint to skip a write that would change nothing: an entry is trusted for `ttl` seconds
    (another process may have dropped or replaced the reference meanwhile; after that the next
    activity checks storage again), and this process forgets it whenever it changes the
    reference itself or finds the user unknown."""

    def __init__(self, ttl: float = 300.0, size: int = 10_000, clock: Callable[[], float] = time.monotonic):
        self.ttl, self.size, self.clock = ttl, size, clock
        self._known: OrderedDict[str, tuple[str, dict[str, Any], float]] = OrderedDict()

    def person_for(self, user_id: str, reference: dict[str, Any]) -> str | None:
        """The person id, when this very reference is known to be stored for the user."""
        entry = self._known.get(user_id)
        if entry is None:
            return None
        person_id, content, at = entry
        if self.clock() - at > self.ttl or content != _content(reference):
            del self._known[user_id]
            return None
        return person_id

    def keep(self, user_id: str, person_id: str, reference: dict[str, Any]) -> None:
        self._known[user_id] = (person_id, _content(reference), self.clock())
        self._known.move_to_end(user_id)
        while len(self._known) > self.size:
            self._known.popitem(last=False)

    def forget(self, user_id: str) -> None:
        self._known.pop(user_id, None)

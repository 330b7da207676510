"""Conversation references, kept in storage (`ChatIdentity.reference` of the person's Teams
identity) and never in memory, so any process can reach anyone after a restart.

The stored JSON is `{"conversation_reference": <ConversationReference.serialize()>,
"service_url": ..., "tenant_id": ..., "conversation_id": ..., "stored_at": ...}`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from storage.db import Store
from storage.models import ChatIdentity, Conversation, OutboxMessage, Person, Programme

logger = logging.getLogger(__name__)

PLATFORM = "teams"
NOT_INSTALLED = "Teams app not installed for this person"


@dataclass(frozen=True)
class Recipient:
    person_id: str
    language: str
    tenant_id: str | None  # the programme's teams_tenant


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


async def _identity(session: Any, user_id: str) -> ChatIdentity | None:
    return (
        await session.exec(
            select(ChatIdentity).where(ChatIdentity.platform == PLATFORM, ChatIdentity.external_id == user_id)
        )
    ).first()


async def recipient(store: Store, user_id: str) -> Recipient | None:
    """The programme person behind a Teams user id, if any (and not forgotten)."""
    async with store.session() as session:
        identity = await _identity(session, user_id)
        person = await session.get(Person, identity.person_id) if identity else None
        if person is None or person.forgotten:
            return None
        programme = await session.get(Programme, person.programme_id)
        assert programme is not None
        return Recipient(person.id, person.language or programme.language, programme.teams_tenant)


@dataclass(frozen=True)
class Known:
    person_id: str
    current_question_id: int | None  # what a text reply would answer now, when asked for


def _same(old: dict[str, Any] | None, new: dict[str, Any]) -> bool:
    if old is None:
        return False
    return {k: v for k, v in old.items() if k != "stored_at"} == {
        k: v for k, v in new.items() if k != "stored_at"
    }


async def save(
    store: Store, user_id: str, reference: dict[str, Any], now: datetime, current_question: bool = False
) -> Known | None:
    """Store the reference for the person with this Teams id and say who they are (with their
    current question, if asked for); None when the programme does not know them (then nothing is
    stored). One short transaction, which writes only when the reference changed.

    A person who was unreachable is reachable again: their failed prompts go back to the outbox.
    """
    async with store.session() as session:
        identity = await _identity(session, user_id)
        person = await session.get(Person, identity.person_id) if identity else None
        if identity is None or person is None or person.forgotten:
            return None
        if not _same(identity.reference, reference):
            identity.reference = reference
            session.add(identity)
            logger.info("teams: conversation reference stored for %s", person.id)
        if person.unreachable_reason:
            person.unreachable_reason = None
            session.add(person)
            result = await session.exec(  # type: ignore[call-overload]
                update(OutboxMessage)
                .where(
                    col(OutboxMessage.person_id) == person.id,
                    col(OutboxMessage.status) == "failed",
                    col(OutboxMessage.last_error) == NOT_INSTALLED,
                )
                .values(status="pending", not_before=now, attempts=0, last_error=None)
            )
            logger.info(
                "teams: %s reachable again; %d held prompts requeued", person.id, result.rowcount or 0
            )
        current = None
        if current_question:
            conv = (
                await session.exec(
                    select(Conversation).where(
                        Conversation.person_id == person.id, Conversation.status == "open"
                    )
                )
            ).first()
            current = conv.current_question_id if conv else None
        return Known(person.id, current)


async def drop(store: Store, user_id: str) -> None:
    """The app was removed for the person: the reference no longer reaches them."""
    async with store.session() as session:
        identity = await _identity(session, user_id)
        if identity is not None and identity.reference is not None:
            identity.reference = None
            session.add(identity)
            logger.info("teams: conversation reference dropped for %s", identity.person_id)


async def mark_unreachable(store: Store, person_id: str, reason: str) -> None:
    async with store.session() as session:
        person = await session.get(Person, person_id)
        if person is not None and person.unreachable_reason != reason:
            person.unreachable_reason = reason
            session.add(person)
            logger.warning("teams: %s is unreachable: %s", person_id, reason)


async def tenant_of(store: Store, person_id: str) -> str | None:
    async with store.session() as session:
        person = await session.get(Person, person_id)
        programme = await session.get(Programme, person.programme_id) if person else None
        return programme.teams_tenant if programme else None

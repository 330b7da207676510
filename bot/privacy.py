"""A person's own data: exported on request, and forgotten on request."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import audit
from storage.db import Store
from storage.models import (
    AhaMoment,
    Answer,
    AuditKind,
    ChatIdentity,
    Conversation,
    InboundEvent,
    LearningGoal,
    Note,
    OutboxMessage,
    OutboxStatus,
    Person,
    PersonGoal,
    Question,
    SupportRequest,
)
from storage.pairing_tables import Interest, Pair, PairingChoice, PairingRound, PairMember
from storage.records import all_choices, any_approval, forget_record

logger = logging.getLogger(__name__)


class UnknownPerson(LookupError):
    pass


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


async def export_person(store: Store, person_id: str, audited_as: str | None = None) -> dict[str, Any]:
    """The person's data. With `audited_as` (who asks: `storage.audit.command_line()`), the
    export is written to the audit log in the transaction that reads it."""
    if audited_as is None:
        async with store.reading() as session:
            return await _export(session, person_id)
    async with store.session() as session:
        data = await _export(session, person_id)
        await audit.record(
            session,
            AuditKind.EXPORT,
            actor=audited_as,
            person_id=person_id,
            detail={
                "reflections": len(data["reflections"]),
                "aha_moments": len(data["aha_moments"]),
                "support_requests": len(data["support_requests"]),
                "notes": len(data["notes"]),
            },
        )
        return data


async def _export(session: AsyncSession, person_id: str) -> dict[str, Any]:
    person = await session.get(Person, person_id)
    if person is None:
        raise UnknownPerson(person_id)
    answers = await session.exec(
        select(Answer, Question, Conversation)
        .join(Question, col(Answer.question_id) == Question.id)
        .join(Conversation, col(Question.conversation_id) == Conversation.id)
        .where(Answer.person_id == person_id)
        .order_by(col(Conversation.id), col(Question.position))
    )
    reflections = [
        {
            "flow": conv.flow,
            "question": question.text,
            "answer": answer.text,
            "values": answer.values,
            "learning_goal": answer.goal_id,
            "answered_at": _iso(answer.answered_at),
            "corrected_at": _iso(answer.corrected_at),
        }
        for answer, question, conv in answers.all()
    ]
    moments = await session.exec(
        select(AhaMoment).where(AhaMoment.person_id == person_id).order_by(col(AhaMoment.id))
    )
    supports = await session.exec(
        select(SupportRequest).where(SupportRequest.person_id == person_id).order_by(col(SupportRequest.id))
    )
    goals = await session.exec(
        select(LearningGoal)
        .join(PersonGoal, col(PersonGoal.goal_id) == LearningGoal.id)
        .where(PersonGoal.person_id == person_id)
        .order_by(col(PersonGoal.position))
    )
    identities = await session.exec(select(ChatIdentity).where(ChatIdentity.person_id == person_id))
    notes = await session.exec(
        select(Note).where(Note.person_id == person_id).order_by(col(Note.written_at), col(Note.id))
    )
    pairing = await _pairing(session, person_id)
    learning_record = await _record(session, person_id)
    return {
        "person": person.id,
        "name": person.name,
        "forgotten": person.forgotten,
        "learning_goals": [{"id": g.id, "text": g.text} for g in goals.all()],
        "chat_identities": [{"platform": i.platform, "id": i.external_id} for i in identities.all()],
        "reflections": reflections,
        "aha_moments": [
            {
                "text": m.text,
                "kind": m.kind,
                "consent": m.consent,
                "panel": m.panel_id,
                "created_at": _iso(m.created_at),
            }
            for m in moments.all()
        ],
        "support_requests": [
            {"text": s.text, "created_at": _iso(s.created_at), "handled_at": _iso(s.handled_at)}
            for s in supports.all()
        ],
        # What they wrote that answered no question.
        "notes": [{"text": n.text, "written_at": _iso(n.written_at)} for n in notes.all()],
        "pairing": pairing,
        "learning_record": learning_record,
    }


async def _record(session: AsyncSession, person_id: str) -> dict[str, Any]:
    """What they chose to leave out of (or include in) their learning record, and its approval."""
    approval = await any_approval(session, person_id)
    return {
        "choices": [
            {"item": c.item_kind, "id": c.item_id, "included": c.included, "changed_at": _iso(c.changed_at)}
            for c in await all_choices(session, person_id)
        ],
        "approval": {
            "approved_by": approval.approved_by,
            "approved_at": _iso(approval.approved_at),
            "invalidated_at": _iso(approval.invalidated_at),
        }
        if approval
        else None,
    }


async def _pairing(session: AsyncSession, person_id: str) -> dict[str, Any]:
    """Their choice about pairing, the goals they said interest them, and each round they were
    paired in: with whom (by name, as the introduction told them) and why."""
    choice = await session.get(PairingChoice, person_id)
    interests = await session.exec(
        select(Interest.goal_id).where(Interest.person_id == person_id).order_by(col(Interest.position))
    )
    mine = (
        await session.exec(
            select(col(PairMember.pair_id), col(PairingRound.number), col(PairingRound.day), Pair)
            .join(Pair, col(Pair.id) == PairMember.pair_id)
            .join(PairingRound, col(PairingRound.id) == PairMember.round_id)
            .where(PairMember.person_id == person_id)
            .order_by(col(PairingRound.number))
        )
    ).all()
    others: dict[int, list[str]] = {}
    if mine:
        rows = await session.exec(
            select(PairMember.pair_id, Person.name)
            .join(Person, col(Person.id) == PairMember.person_id)
            .where(col(PairMember.pair_id).in_([m[0] for m in mine]), PairMember.person_id != person_id)
            .order_by(col(PairMember.id))
        )
        for pair_id, name in rows.all():
            others.setdefault(pair_id, []).append(name)
    return {
        "choice": choice.choice if choice else None,
        "paused_until": choice.paused_until.isoformat() if choice and choice.paused_until else None,
        "interests": list(interests.all()),
        "rounds": [
            # Counted from 1, as `reflectbot pairs` prints them.
            {
                "round": number + 1,
                "day": day.isoformat(),
                "with": others.get(pair_id, []),
                "reason": pair.reason,
                "learning_goal": pair.goal_id,
            }
            for pair_id, number, day, pair in mine
        ],
    }


async def forget_person(store: Store, person_id: str, actor: str | None = None) -> dict[str, int]:
    """Delete what the person wrote and how to reach them; keep a placeholder so that a later
    import of the programme file does not bring them back. The audit log records it (the counts,
    by `actor`, a command run by hand unless said otherwise) in the same transaction."""
    async with store.session() as session:
        person = await session.get(Person, person_id)
        if person is None:
            raise UnknownPerson(person_id)
        # The record's choices name their answers and moments: gone before them.
        counts: dict[str, int] = await forget_record(session, person_id)
        question_ids = select(Question.id).where(Question.person_id == person_id)
        for name, statement in (
            ("aha_moments", delete(AhaMoment).where(col(AhaMoment.person_id) == person_id)),
            ("answers", delete(Answer).where(col(Answer.person_id) == person_id)),
            ("notes", delete(Note).where(col(Note.person_id) == person_id)),
            ("support_requests", delete(SupportRequest).where(col(SupportRequest.person_id) == person_id)),
            # Messages to them quote their goals and answers; alerts to coordinators quote their words.
            (
                "outbox",
                delete(OutboxMessage).where(
                    or_(
                        col(OutboxMessage.person_id) == person_id,
                        col(OutboxMessage.about_person_id) == person_id,
                        col(OutboxMessage.question_id).in_(question_ids),
                    )
                ),
            ),
            # Digests and panel packs quote many people: one not yet sent is dropped (the next
            # sweep writes it afresh, without this person); one already sent keeps no text.
            (
                "unsent_reports",
                delete(OutboxMessage).where(
                    or_(
                        col(OutboxMessage.key).startswith("digest:"),
                        col(OutboxMessage.key).startswith("panel-pack:"),
                    ),
                    col(OutboxMessage.status) != OutboxStatus.SENT,
                ),
            ),
            (
                "sent_reports",
                update(OutboxMessage)
                .where(
                    or_(
                        col(OutboxMessage.key).startswith("digest:"),
                        col(OutboxMessage.key).startswith("panel-pack:"),
                    ),
                    col(OutboxMessage.status) == OutboxStatus.SENT,
                )
                .values(payload={"person_id": "", "text": ""}),
            ),
            ("chat_identities", delete(ChatIdentity).where(col(ChatIdentity.person_id) == person_id)),
            # Whom they were paired with, their choice and interests: the others' pairs stay theirs.
            ("pairings", delete(PairMember).where(col(PairMember.person_id) == person_id)),
            ("pairing_choice", delete(PairingChoice).where(col(PairingChoice.person_id) == person_id)),
            ("interests", delete(Interest).where(col(Interest.person_id) == person_id)),
            # Replies still waiting to be taken hold their words.
            ("inbox", delete(InboundEvent).where(col(InboundEvent.person_id) == person_id)),
        ):
            result = await session.exec(statement)
            counts[name] = result.rowcount or 0
        person.forgotten = True
        person.name = "(forgotten)"
        person.pending_action = None
        session.add(person)
        await audit.record(
            session,
            AuditKind.FORGET,
            actor=actor or audit.command_line(),
            person_id=person_id,
            detail=dict(counts),
        )
    logger.info("forgot person %s: %s", person_id, counts)
    return counts

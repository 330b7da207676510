"""Downloads for a coordinator: the outcome data and the answers they may see, as CSV and XLSX, in
the columns a funder's results database takes (one row per statement).

The column names are fixed identifiers in English (a database maps them once), not translated
text; dates are the coordinator's local dates (ISO 8601). A panel item its author shared only
anonymously carries "anonymous" instead of their name: a file leaves the coordinator's hands.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import astuple, dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot.flows import FLOWS
from bot.reports.coordinator_view import visible_people
from bot.reports.digest import build_digest
from storage.db import Store
from storage.models import AhaMoment, Answer, Conversation, LearningGoal, Partnership, Programme, Question

logger = logging.getLogger(__name__)

COLUMNS = ("programme", "partnership", "learning_goal", "outcome", "person", "date", "text")
ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Row:
    programme: str
    partnership: str
    learning_goal: str
    outcome: str
    person: str
    date: str
    text: str


async def _answers(store: Store, coordinator_id: str) -> list[tuple[Row, str, str, list[str]]]:
    """Every answer the coordinator may see as a row, with its flow, question key and values."""
    digest = await build_digest(store, coordinator_id, datetime.now(ZoneInfo("UTC")))
    zone = ZoneInfo(digest.timezone)
    async with store.reading() as session:
        people = await visible_people(session, coordinator_id)
        partnerships = {
            p.id: p.name
            for p in (
                await session.exec(
                    select(Partnership).where(
                        col(Partnership.id).in_({p.partnership_id for p in people.values()})
                    )
                )
            ).all()
        }
        programmes = {p.id: p.name for p in (await session.exec(select(Programme))).all()}
        goals = {g.id: g for g in (await session.exec(select(LearningGoal))).all()}
        anonymous = set(
            (
                await session.exec(
                    select(AhaMoment.question_id).where(
                        col(AhaMoment.person_id).in_(list(people)), AhaMoment.consent == ANONYMOUS
                    )
                )
            ).all()
        )
        found = (
            await session.exec(
                select(Answer, Question, Conversation)
                .join(Question, col(Answer.question_id) == Question.id)
                .join(Conversation, col(Question.conversation_id) == Conversation.id)
                .where(col(Answer.person_id).in_(list(people)))
                .order_by(col(Answer.answered_at), col(Answer.id))
            )
        ).all()
    rows = []
    for answer, question, conv in found:
        person = people[answer.person_id]
        goal = goals.get(question.goal_id or "")
        rows.append(
            (
                Row(
                    programme=programmes.get(person.programme_id, ""),
                    partnership=partnerships.get(person.partnership_id or "", ""),
                    learning_goal=goal.text if goal else "",
                    outcome=goal.outcome if goal else "",
                    person=ANONYMOUS if question.id in anonymous else person.name,
                    date=answer.answered_at.astimezone(zone).date().isoformat(),
                    text=answer.text,
                ),
                conv.flow,
                question.key,
                list(answer.values or []),
            )
        )
    return rows


async def answer_rows(store: Store, coordinator_id: str) -> list[Row]:
    """The answers of the coordinator's participants, without the consent questions themselves."""
    consent_keys = {q.key for f in FLOWS.values() for q in f.questions if q.consent_for}
    return [
        row for row, _flow, key, _values in await _answers(store, coordinator_id) if key not in consent_keys
    ]


async def outcome_rows(store: Store, coordinator_id: str) -> list[Row]:
    """The final reflections' outcome data: each outcome reported (with the sentence about it),
    each learning goal's progress score, and what the home organisation should adopt."""
    finals = [
        (row, key, values)
        for row, flow, key, values in await _answers(store, coordinator_id)
        if flow == "final"
    ]
    sentences = {
        (row.person, key.removeprefix("outcome_")): row.text
        for row, key, _v in finals
        if key.startswith("outcome_")
    }
    result: list[Row] = []
    for row, key, values in finals:
        if key == "outcomes":
            result.extend(
                replace(row, outcome=value, text=sentences.get((row.person, value), "")) for value in values
            )
        elif key in ("goal_progress", "adopt"):
            result.append(row)
    return result


def _cell(value: str) -> str:
    """A text a spreadsheet would run as a formula (=, +, -, @) is kept as text."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def to_csv(rows: list[Row]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerows([_cell(v) for v in astuple(r)] for r in rows)
    # With a byte-order mark, Excel opens Bengali, Hindi, Nepali and Khmer text as UTF-8.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(rows: list[Row], sheet: str) -> bytes:
    # Imported when a spreadsheet is asked for: openpyxl adds some 25 MB to a process.
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = sheet[:31]
    ws.append(COLUMNS)
    for row in rows:
        ws.append([_cell(v) for v in astuple(row)])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()

"""The panel pack: the agenda of consented aha moments, takeaways and discussion questions,
posted to the panel's audience the day before the panel and printed by `reflectbot panel-pack`.

What goes in: the presenters' items recorded for this panel (panel preparation) and their midpoint
aha moments, what participants back home shared in a follow-up since the last pack ("Back at
home"), each only with consent "named" or "anonymous"; "private" items never appear.

Anonymous items carry no name and are never placed where they would point to one person:
- under a partnership only when at least MIN_GROUP of the panel's presenters come from it (never
  under a learning goal, which would narrow the group further);
- otherwise in one ungrouped "shared anonymously" section, when the panel has at least MIN_GROUP
  presenters;
- otherwise (a panel of one or two presenters) they are left out.
Anonymous items are listed in alphabetical order, so their order does not follow the presenters'.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import N_, Translator
from bot.messages import Outgoing
from bot.reports.common import language_of, zoned_moment
from bot.reports.document import Block, Bullets, Heading, Paragraph, to_html, to_markdown, to_text
from storage.db import Store
from storage.models import (
    AhaMoment,
    Conversation,
    LearningGoal,
    Panel,
    PanelPresenter,
    Partnership,
    Person,
    PersonGoal,
    Programme,
    Question,
)

logger = logging.getLogger(__name__)

MIN_GROUP = 3
SHARED = ("named", "anonymous")
KIND_LABELS = {
    "aha": N_("Aha moment"),
    "takeaway": N_("Takeaway"),
    "discussion": N_("Question for discussion"),
    "pairing": N_("From pairing"),
}
# Follow-ups are held months after an exchange: what they share goes to a later panel as its own section.
FOLLOW_UP = "follow-up"


class UnknownPanel(LookupError):
    pass


@dataclass(frozen=True)
class PackItem:
    id: int
    kind: str  # aha | takeaway | discussion
    text: str
    name: str | None  # None: shared anonymously


@dataclass(frozen=True)
class GoalGroup:
    goals: tuple[str, ...]  # the learning goals of the presenters whose items these are
    items: tuple[PackItem, ...]


@dataclass(frozen=True)
class PartnershipGroup:
    id: str
    name: str
    by_goal: tuple[GoalGroup, ...]
    anonymous: tuple[PackItem, ...]


@dataclass(frozen=True)
class Presenter:
    name: str
    partnership: str


@dataclass(frozen=True)
class PanelPack:
    panel_id: str
    title: str
    at: datetime
    timezone: str
    place: str
    language: str  # the programme's language, the default for the audience
    presenters: tuple[Presenter, ...]
    partnerships: tuple[PartnershipGroup, ...]
    anonymous: tuple[PackItem, ...]  # anonymous items not placed under a partnership
    discussion: tuple[PackItem, ...]
    # What people paired with the presenters noticed and agreed to share (`bot.pairing`).
    pairing: tuple[PackItem, ...] = ()
    # What participants back home applied and shared, from their follow-ups.
    home: tuple[PackItem, ...] = ()

    def items(self) -> list[PackItem]:
        """Every item in the pack, wherever it is placed."""
        grouped = [i for p in self.partnerships for g in p.by_goal for i in g.items]
        return (
            grouped
            + [i for p in self.partnerships for i in p.anonymous]
            + [*self.anonymous, *self.discussion, *self.pairing, *self.home]
        )


async def build_panel_pack(store: Store, panel_id: str) -> PanelPack:
    async with store.session() as session:
        panel = await session.get(Panel, panel_id)
        if panel is None:
            raise UnknownPanel(panel_id)
        programme = await session.get(Programme, panel.programme_id)
        assert programme is not None
        presenters = [
            person
            for person in (
                await session.exec(
                    select(Person)
                    .join(PanelPresenter, col(PanelPresenter.person_id) == Person.id)
                    .where(PanelPresenter.panel_id == panel_id, Person.forgotten == False)  # noqa: E712
                    .order_by(col(PanelPresenter.position))
                )
            ).all()
        ]
        by_id = {p.id: p for p in presenters}
        partnerships = {
            p.id: p
            for p in (
                await session.exec(
                    select(Partnership).where(
                        col(Partnership.id).in_({p.partnership_id for p in presenters if p.partnership_id})
                    )
                )
            ).all()
        }
        goals: dict[str, list[str]] = {pid: [] for pid in by_id}
        for link, goal in (
            await session.exec(
                select(PersonGoal, LearningGoal)
                .join(LearningGoal, col(LearningGoal.id) == PersonGoal.goal_id)
                .where(col(PersonGoal.person_id).in_(list(by_id)))
                .order_by(col(PersonGoal.position))
            )
        ).all():
            goals[link.person_id].append(goal.text)
        moments = (
            await session.exec(
                select(AhaMoment)
                .where(
                    col(AhaMoment.person_id).in_(list(by_id)),
                    or_(AhaMoment.panel_id == panel_id, AhaMoment.panel_id == None),  # noqa: E711
                    col(AhaMoment.consent).in_(SHARED),
                    AhaMoment.kind != "pairing",
                    or_(col(AhaMoment.question_id).is_(None), col(AhaMoment.question_id).not_in(_follow_up_questions())),
                )
                .order_by(col(AhaMoment.created_at), col(AhaMoment.id))
            )
        ).all()
        pairing = await _pairing_items(session, panel_id)
        home = await _home_items(session, panel_id)

    per_partnership: dict[str | None, int] = {}
    for p in presenters:
        per_partnership[p.partnership_id] = per_partnership.get(p.partnership_id, 0) + 1
    anonymous_allowed = len(presenters) >= MIN_GROUP

    named: dict[str, dict[tuple[str, ...], list[PackItem]]] = {}
    grouped_anonymous: dict[str, list[PackItem]] = {}
    loose_anonymous: list[PackItem] = []
    discussion: list[PackItem] = []
    left_out = 0
    for m in moments:
        person = by_id[m.person_id]
        anonymous = m.consent == "anonymous"
        item = PackItem(m.id, m.kind, m.text, None if anonymous else person.name)  # type: ignore[arg-type]
        if m.kind == "discussion":
            if anonymous and not anonymous_allowed:
                left_out += 1
            else:
                discussion.append(item)
            continue
        partnership = person.partnership_id or ""
        if not anonymous:
            named.setdefault(partnership, {}).setdefault(tuple(goals[person.id]), []).append(item)
        elif per_partnership.get(person.partnership_id, 0) >= MIN_GROUP:
            grouped_anonymous.setdefault(partnership, []).append(item)
        elif anonymous_allowed:
            loose_anonymous.append(item)
        else:
            left_out += 1
    if left_out:
        logger.info("panel pack %s: %d anonymous items left out (too few presenters)", panel_id, left_out)

    def alphabetical(items: list[PackItem]) -> tuple[PackItem, ...]:
        return tuple(sorted(items, key=lambda i: (i.text.casefold(), i.id)))

    groups = []
    order = sorted(
        set(named) | set(grouped_anonymous),
        key=lambda pid: partnerships[pid].name if pid in partnerships else "",
    )
    for pid in order:
        groups.append(
            PartnershipGroup(
                id=pid,
                name=partnerships[pid].name if pid in partnerships else "",
                by_goal=tuple(GoalGroup(g, tuple(items)) for g, items in named.get(pid, {}).items()),
                anonymous=alphabetical(grouped_anonymous.get(pid, [])),
            )
        )
    discussion_named = [i for i in discussion if i.name is not None]
    return PanelPack(
        panel_id=panel.id,
        title=panel.title,
        at=panel.at,
        timezone=panel.timezone,
        place=panel.place,
        language=programme.language,
        presenters=tuple(
            Presenter(p.name, partnerships[p.partnership_id].name if p.partnership_id in partnerships else "")
            for p in presenters
        ),
        partnerships=tuple(groups),
        anonymous=alphabetical(loose_anonymous),
        discussion=(*discussion_named, *alphabetical([i for i in discussion if i.name is None])),
        pairing=pairing,
        home=home,
    )


def _follow_up_questions() -> Any:
    return (
        select(Question.id)
        .join(Conversation, col(Conversation.id) == Question.conversation_id)
        .where(Conversation.flow == FOLLOW_UP)
    )


async def _home_items(session: AsyncSession, panel_id: str) -> tuple[PackItem, ...]:
    """What participants back home shared in a follow-up, kept for this panel. Anonymous ones only
    when at least MIN_GROUP people shared some: a handful back home is a small group."""
    rows = (
        await session.exec(
            select(AhaMoment, Person)
            .join(Person, col(Person.id) == AhaMoment.person_id)
            .where(
                AhaMoment.panel_id == panel_id,
                col(AhaMoment.question_id).in_(_follow_up_questions()),
                col(AhaMoment.consent).in_(SHARED),
                Person.forgotten == False,  # noqa: E712
            )
            .order_by(col(AhaMoment.created_at), col(AhaMoment.id))
        )
    ).all()
    return _shared_items(rows, panel_id, "home")


def _shared_items(rows: Any, panel_id: str, what: str) -> tuple[PackItem, ...]:
    """Named items in the order written, then anonymous ones alphabetically when enough people
    shared for none to point to one person."""
    anonymous_allowed = len({person.id for _m, person in rows}) >= MIN_GROUP
    named = [PackItem(m.id, m.kind, m.text, person.name) for m, person in rows if m.consent == "named"]
    hidden = [PackItem(m.id, m.kind, m.text, None) for m, _p in rows if m.consent == "anonymous"]
    if hidden and not anonymous_allowed:
        logger.info("panel pack %s: %d anonymous %s items left out (too few people)", panel_id, len(hidden), what)
        hidden = []
    return (*named, *sorted(hidden, key=lambda i: (i.text.casefold(), i.id)))


async def _pairing_items(session: AsyncSession, panel_id: str) -> tuple[PackItem, ...]:
    """Shared check-in answers of pairs with a presenter (kept for this panel), colleagues'
    too. Anonymous ones only when at least MIN_GROUP people shared some, as a pair is small."""
    rows = (
        await session.exec(
            select(AhaMoment, Person)
            .join(Person, col(Person.id) == AhaMoment.person_id)
            .where(
                AhaMoment.panel_id == panel_id,
                AhaMoment.kind == "pairing",
                col(AhaMoment.consent).in_(SHARED),
                Person.forgotten == False,  # noqa: E712
            )
            .order_by(col(AhaMoment.created_at), col(AhaMoment.id))
        )
    ).all()
    return _shared_items(rows, panel_id, "pairing")


def _blocks(pack: PanelPack, translator: Translator, language: str) -> list[Block]:
    def t(message: str, **values: object) -> str:
        return translator.gettext(language, message, **values)

    def line(item: PackItem) -> str:
        kind = t(KIND_LABELS.get(item.kind, KIND_LABELS["aha"]))
        if item.name is None:
            return t(N_("{kind}: “{text}”"), kind=kind, text=item.text)
        return t(N_("{kind} · {name}: “{text}”"), kind=kind, name=item.name, text=item.text)

    blocks: list[Block] = [
        Heading(pack.title, 1),
        Bullets(
            (
                t(N_("When: {when}"), when=zoned_moment(translator, language, pack.at, pack.timezone)),
                t(N_("Where: {place}"), place=pack.place),
            )
        ),
        Heading(t(N_("Presenters")), 2),
        Bullets(
            tuple(
                t(N_("{name} ({partnership})"), name=p.name, partnership=p.partnership)
                if p.partnership
                else p.name
                for p in pack.presenters
            )
        ),
        Heading(t(N_("Aha moments and takeaways")), 2),
    ]
    if not pack.partnerships and not pack.anonymous:
        blocks.append(Paragraph(t(N_("Nothing has been shared for this panel yet.")), note=True))
    for group in pack.partnerships:
        blocks.append(Heading(group.name, 3))
        for goal_group in group.by_goal:
            if goal_group.goals:
                blocks.append(Heading(t(N_("Learning goal: {goal}"), goal=" · ".join(goal_group.goals)), 4))
            blocks.append(Bullets(tuple(line(i) for i in goal_group.items)))
        if group.anonymous:
            blocks.append(Heading(t(N_("Shared anonymously")), 4))
            blocks.append(Bullets(tuple(line(i) for i in group.anonymous)))
    if pack.anonymous:
        blocks.append(Heading(t(N_("Shared anonymously")), 3))
        blocks.append(Bullets(tuple(line(i) for i in pack.anonymous)))
    if pack.pairing:
        blocks.append(Heading(t(N_("From pairing with colleagues")), 2))
        blocks.append(Bullets(tuple(line(i) for i in pack.pairing)))
    if pack.home:
        blocks.append(Heading(t(N_("Back at home")), 2))
        blocks.append(
            Paragraph(t(N_("What participants applied and shared at home in the months after their exchange.")), note=True)
        )
        blocks.append(Bullets(tuple(line(i) for i in pack.home)))
    blocks.append(Heading(t(N_("Questions for discussion")), 2))
    if pack.discussion:
        blocks.append(
            Bullets(
                tuple(
                    t(N_("“{text}” ({name})"), text=i.text, name=i.name) if i.name else f"“{i.text}”"
                    for i in pack.discussion
                )
            )
        )
    else:
        blocks.append(Paragraph(t(N_("None yet.")), note=True))
    blocks.append(
        Paragraph(
            t(
                N_(
                    "Everything here is shared with the consent of the person who wrote it; anonymous items carry no name."
                )
            ),
            note=True,
        )
    )
    return blocks


def render_text(pack: PanelPack, translator: Translator, language: str | None = None) -> str:
    return to_text(_blocks(pack, translator, language or pack.language))


def render_markdown(pack: PanelPack, translator: Translator, language: str | None = None) -> str:
    return to_markdown(_blocks(pack, translator, language or pack.language))


def render_html(pack: PanelPack, translator: Translator, language: str | None = None) -> str:
    language = language or pack.language
    return to_html(_blocks(pack, translator, language), pack.title, language)


def channels(panel: Panel) -> list[str]:
    """The panel's audience channels as outbox channel addresses."""
    found = []
    if panel.slack_channel:
        found.append(f"slack:{panel.slack_channel}")
    if panel.teams_channel:
        found.append(f"teams:{panel.teams_channel}")
    return found


async def panel_pack_messages(
    store: Store, panel_id: str, translator: Translator, language: str | None = None
) -> list[tuple[str, Outgoing]]:
    """The pack as a post to each of the panel's audience channels, in the programme's language."""
    pack = await build_panel_pack(store, panel_id)
    async with store.session() as session:
        panel = await session.get(Panel, panel_id)
        assert panel is not None
        programme = await session.get(Programme, panel.programme_id)
        assert programme is not None
    language = language or language_of(None, programme)
    message = Outgoing(
        person_id="",
        kind="panel-pack",
        language=language,
        text=render_text(pack, translator, language),
        markdown=render_markdown(pack, translator, language),
    )
    return [(channel, message) for channel in channels(panel)]

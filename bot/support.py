"""Support requests: a person asks (the `support` command, or the midpoint's support question),
their partnership's coordinators are alerted at once, and one of them marks it handled, with the
"Mark handled" button on the alert or by writing `handled N`, after which it no longer shows as open.

Only a coordinator of the requester's partnership may mark it; the other coordinators who were
alerted are told, so no one follows up twice.
"""

from __future__ import annotations

import logging

from bot.actions import action
from bot.calendar import WorkCalendar
from bot.command_parser import Command
from bot.i18n import N_, format_moment
from bot.messages import Action, Outgoing
from bot.turn import Turn
from storage.models import Conversation, Person, SupportRequest
from storage.people import coordinates, coordinators_of
from storage.support_requests import open_requests_for, record_support

logger = logging.getLogger(__name__)

HANDLED_ACTION = "support-handled"
MARK_HANDLED = N_("Mark handled")


def handled_button(request_id: int, label: str) -> Action:
    return Action(id=f"{HANDLED_ACTION}:{request_id}", label=label)


async def send_support_request(turn: Turn, text: str, conv: Conversation | None) -> None:
    """Keep the request and alert each of the person's coordinators, in their own language."""
    request = await record_support(turn.session, turn.person.id, text, conv.id if conv else None, turn.now)
    assert request.id is not None
    coordinators = await coordinators_of(turn.session, turn.person)
    for coordinator in coordinators:
        language = coordinator.language or turn.programme.language
        zone = WorkCalendar(coordinator.timezone or turn.programme.timezone).zone
        alert = Outgoing(
            person_id=coordinator.id,
            kind="alert",
            language=language,
            always=True,
            text=turn.translator.gettext(
                language,
                N_("{name} asks for support ({when}): “{text}”"),
                name=turn.person.name,
                when=format_moment(language, turn.now.astimezone(zone)),
                text=text or "",
            )
            + "\n"
            + turn.translator.gettext(
                language,
                N_("Support request {id}. Once it is dealt with, mark it handled or write {cmd_handled} {id}."),
                id=request.id,
            ),
            actions=(handled_button(request.id, turn.translator.gettext(language, MARK_HANDLED)),),
        )
        await turn.send(alert, f"support:{request.id}:{coordinator.id}")
    if coordinators:
        await turn.say(
            N_("Your coordinators have been told: {names}."), names=", ".join(c.name for c in coordinators)
        )
    else:
        await turn.say(N_("I could not find a coordinator for you. Please contact your programme directly."))


@action(HANDLED_ACTION)
async def _on_button(turn: Turn, argument: str) -> None:
    await mark_handled(turn, argument)


async def mark_handled(turn: Turn, raw_id: str) -> None:
    request = await turn.session.get(SupportRequest, int(raw_id)) if raw_id.isdigit() else None
    requester = await turn.session.get(Person, request.person_id) if request else None
    if request is None or requester is None or requester.forgotten:
        await turn.say(N_("There is no support request {id}."), id=raw_id)
        return
    if not await coordinates(turn.session, turn.person, requester.partnership_id):
        logger.info("support request %s: %s may not mark it handled", request.id, turn.person.id)
        await turn.say(
            N_("Only the coordinators of that person's partnership can mark support request {id} handled."),
            id=request.id,
        )
        return
    zone = WorkCalendar(turn.person.timezone or turn.programme.timezone).zone
    if request.handled_at is not None:
        by = await turn.session.get(Person, request.handled_by) if request.handled_by else None
        await turn.say(
            N_("Support request {id} was already marked handled by {name} on {when}."),
            id=request.id,
            name=by.name if by else "?",
            when=format_moment(turn.language, request.handled_at.astimezone(zone)),
        )
        return
    request.handled_at, request.handled_by = turn.now, turn.person.id
    turn.session.add(request)
    logger.info("support request %s handled by %s", request.id, turn.person.id)
    await turn.say(
        N_("Support request {id} from {name} is marked handled. It no longer shows as open."),
        id=request.id,
        name=requester.name,
    )
    for other in await coordinators_of(turn.session, requester):
        if other.id == turn.person.id:
            continue
        language = other.language or turn.programme.language
        notice = Outgoing(
            person_id=other.id,
            language=language,
            always=True,
            text=turn.translator.gettext(
                language,
                N_("{coordinator} marked support request {id} from {name} handled."),
                coordinator=turn.person.name,
                id=request.id,
                name=requester.name,
            ),
        )
        await turn.send(notice, f"support-handled:{request.id}:{other.id}")


async def handled_command(turn: Turn, command: Command) -> None:
    """`handled N` marks request N handled; `handled` alone lists the open ones."""
    if turn.person.role != "coordinator":
        await turn.say(N_("Only coordinators can mark support requests handled."))
        return
    number = command.args[0] if command.args else None
    if number:
        await mark_handled(turn, number)
        return
    if command.rest:
        await turn.say(N_("Write {cmd_handled} and the number of the support request, e.g. {cmd_handled} 3."))
        return
    open_requests = await open_requests_for(turn.session, turn.person.id)
    if not open_requests:
        await turn.say(N_("There are no open support requests."))
        return
    zone = WorkCalendar(turn.person.timezone or turn.programme.timezone).zone
    listing = "\n".join(
        turn.t(
            N_("No. {id} · {name}, {when}: “{text}”"),
            id=r.id,
            name=p.name,
            when=format_moment(turn.language, r.created_at.astimezone(zone)),
            text=r.text,
        )
        for r, p in open_requests
    )
    await turn.say(
        N_(
            "Open support requests:\n{requests}\nWrite {cmd_handled} and a number once it is dealt with, e.g. {cmd_handled} {id}."
        ),
        requests=listing,
        id=open_requests[0][0].id,
    )

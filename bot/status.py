"""What `status` tells a person: every conversation on their agenda (open, waiting, due) with how
far they are, and what comes next with the day it will really start."""

from __future__ import annotations

from bot.agenda import rank
from bot.flows import FLOWS
from bot.i18n import N_, NP_
from bot.plan import plan_for
from bot.progress import progress_of
from bot.turn import Turn
from storage.conversations import conversation_by_key, waiting_conversations
from storage.models import ConversationStatus


async def agenda_lines(turn: Turn) -> list[str]:
    lines = []
    conv = await turn.open_conversation()
    if conv is None:
        lines.append(turn.t(N_("No reflection is open right now.")))
    else:
        where = await progress_of(turn.session, conv)
        lines.append(
            turn.t(
                NP_(
                    "{flow}: {done} of {total} question answered.",
                    "{flow}: {done} of {total} questions answered.",
                    "total",
                ),
                flow=turn.t(FLOWS[conv.flow].title),
                done=where.done,
                total=where.total,
            )
        )
        if conv.next_group_at is not None:
            lines.append(
                turn.t(
                    N_("Your next questions come on {when}."),
                    when=await turn.local_moment(conv.next_group_at),
                )
            )
    for other in sorted(await waiting_conversations(turn.session, turn.person.id), key=rank):
        where = await progress_of(turn.session, other)
        message = (
            NP_(
                "Waiting: {flow}, {done} of {total} question answered; it continues afterwards.",
                "Waiting: {flow}, {done} of {total} questions answered; it continues afterwards.",
                "total",
            )
            if other.status == ConversationStatus.WAITING
            else NP_(
                "Due: {flow}, {total} question; it starts afterwards.",
                "Due: {flow}, {total} questions; it starts afterwards.",
                "total",
            )
        )
        lines.append(
            turn.t(message, flow=turn.t(FLOWS[other.flow].title), done=where.done, total=where.total)
        )
    for planned in await plan_for(turn.session, turn.person):
        if planned.due_at <= turn.now or await conversation_by_key(turn.session, planned.key) is not None:
            continue
        lines.append(
            turn.t(
                N_("Next: {flow}, on {when}."),
                flow=turn.t(FLOWS[planned.flow].title),
                when=await turn.local_moment(planned.due_at),
            )
        )
        break
    return lines

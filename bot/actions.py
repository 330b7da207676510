"""Buttons that are not answers (`Outgoing.actions`): an action id is "name:argument", and each
name has one handler, run inside the clicking person's turn.

A module with buttons registers their handlers with `@action`; `bot.engine`, where the
conversation core is put together, imports each such module so that its buttons work.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.i18n import N_
from bot.messages import Op, Outgoing
from bot.turn import Turn

ActionHandler = Callable[[Turn, str], Awaitable[None]]
HANDLERS: dict[str, ActionHandler] = {}


def action(name: str) -> Callable[[ActionHandler], ActionHandler]:
    def register(handler: ActionHandler) -> ActionHandler:
        HANDLERS[name] = handler
        return handler

    return register


async def run_action(turn: Turn, action_id: str) -> None:
    name, _, argument = action_id.partition(":")
    handler = HANDLERS.get(name)
    if handler is None:
        await turn.say(N_("That button no longer does anything."))
        return
    await handler(turn, argument)


# The person opened their home view (Slack's App Home): it is published afresh from storage.
HOME_OPENED = "home-opened"


@action(HOME_OPENED)
async def _home_opened(turn: Turn, _argument: str) -> None:
    home = Outgoing(
        person_id=turn.person.id, text="", language=turn.language, always=True, op=Op.PUBLISH_HOME
    )
    await turn.send(home, f"home:{turn.person.id}:{turn.now.isoformat()}")

""" "Mark handled" from a coordinator's web view: the same handling as the chat's button and
`handled N` (`bot.support.mark_handled`), as a turn of that coordinator: the same checks, the same
confirmation in their chat and the same notice to the partnership's other coordinators."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.i18n import Translator
from bot.support import mark_handled
from bot.turn import Turn
from storage.db import Store
from storage.people import person_for_update

logger = logging.getLogger(__name__)


async def mark_handled_on_web(
    store: Store, translator: Translator, coordinator_id: str, request_id: int, now: datetime
) -> None:
    async with store.session() as session:
        coordinator = await person_for_update(session, coordinator_id)
        if coordinator is None or not coordinator.in_programme:
            return
        turn = await Turn.begin(session, coordinator, now, translator, f"web:handled:{request_id}@{now.isoformat()}")
        await mark_handled(turn, str(request_id))
    logger.info("web: %s marked support request %s handled", coordinator_id, request_id)

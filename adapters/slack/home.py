"""The App Home tab: `bot.home.HomeView` (the person's learning goals, what is coming up, their
answers so far, their notes) rendered as Block Kit, within the Home tab's limits."""

from __future__ import annotations

from functools import partial
from typing import Any

from adapters.slack import texts
from adapters.slack.blocks import ECHO, Block, fit, mrkdwn, plain
from bot.flows import FLOWS
from bot.home import HomeView, InProgress
from bot.i18n import Translator, format_moment

MAX_BLOCKS = 100
SHOWN_ANSWERS = 40


def home_view(home: HomeView, translator: Translator) -> dict[str, Any]:
    language = home.language
    t = partial(translator.gettext, language)

    def heading(text: str) -> Block:
        return {"type": "section", "text": mrkdwn(f"*{fit(text, 200)}*")}

    blocks: list[Block] = [{"type": "header", "text": plain(t(texts.HOME_TITLE), 150)}]

    if home.goals:
        blocks.append(heading(t(texts.YOUR_GOALS)))
        each = 2800 // len(home.goals) - 10
        blocks.append({"type": "section", "text": mrkdwn("\n".join(f"> {fit(g, each)}" for g in home.goals))})
        blocks.append({"type": "divider"})

    coming: list[str] = []
    for item in home.coming:
        title = t(FLOWS[item.flow].title)
        if isinstance(item, InProgress):
            line = t(texts.STATUS_LINE, flow=title, done=item.done, total=item.total)
            if item.next_questions_at is not None:
                line += " " + t(texts.NEXT_QUESTIONS, when=format_moment(language, item.next_questions_at))
            coming.append(line)
        else:
            coming.append(t(texts.HOME_PLANNED, flow=title, when=format_moment(language, item.starts_at)))
    blocks.append(heading(t(texts.HOME_COMING_UP)))
    blocks.append(
        {"type": "section", "text": mrkdwn(fit("\n".join(coming) or t(texts.HOME_NOTHING_PLANNED), 2900))}
    )
    blocks.append({"type": "divider"})

    blocks.append(heading(t(texts.HOME_ANSWERS)))
    if not home.answers:
        blocks.append({"type": "section", "text": mrkdwn(fit(t(texts.HOME_NO_ANSWERS), 2900))})
    earlier = max(0, len(home.answers) - SHOWN_ANSWERS)
    if earlier:
        blocks.append(
            {"type": "context", "elements": [mrkdwn(fit(t(texts.HOME_MORE_ANSWERS, count=earlier), 1900))]}
        )
    for answered in home.answers[earlier:]:
        text = f"*{fit(answered.question, 600)}*\n> " + fit(answered.answer, ECHO).replace("\n", "\n> ")
        blocks.append({"type": "section", "text": mrkdwn(text)})
    if home.notes:
        blocks.append({"type": "divider"})
        blocks.append(heading(t(texts.HOME_NOTES)))
        # The newest first, in one section (a note never pushes the answers out of the tab), as
        # many whole notes as its 3,000 characters hold; export has them all.
        shown: list[str] = []
        for note in reversed(home.notes):
            quoted = "> " + fit(note, ECHO).replace("\n", "\n> ")
            if sum(len(q) + 1 for q in shown) + len(quoted) > 2900:
                break
            shown.append(quoted)
        blocks.append({"type": "section", "text": mrkdwn("\n".join(shown))})
    blocks.append({"type": "context", "elements": [mrkdwn(fit(t(texts.HOME_HELP), 1900))]})
    return {"type": "home", "blocks": blocks[:MAX_BLOCKS]}

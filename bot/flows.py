"""The conversations reflectbot holds, as data. Texts are English message ids (see `bot.i18n`).

A question may be asked once per learning goal (`per_goal`), only when an earlier answer says so
(`ask_if`), record an aha moment for the panel (`records`), or set the sharing consent of one
(`consent_for`). `section` keeps questions that belong together on the same day.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.i18n import N_, NP_, Plural
from bot.messages import QuestionKind

OUTCOME_LABELS = {
    "technical-competence": N_("Technical competence"),
    "organisational-development": N_("Organisational development"),
    "personal-development": N_("Personal development"),
    "innovation": N_("Innovation"),
}
CONSENT_CHOICES = (
    ("named", N_("Share with my name")),
    ("anonymous", N_("Share anonymously")),
    ("private", N_("Don't share")),
)
# Button labels stay within BUTTON_WIDTH visible characters in every language, so a narrow
# card (Teams on a phone) shows them whole.
BUTTON_WIDTH = 22
YES_NO = (("no", N_("No, all is well")), ("yes", N_("Yes, contact me")))


@dataclass(frozen=True)
class AskIf:
    """Ask only if the answer to `key` includes `value` (or, with value None, was given at all)."""

    key: str
    value: str | None = None


@dataclass(frozen=True)
class QuestionSpec:
    key: str
    kind: QuestionKind
    text: str
    section: str
    choices: tuple[tuple[str, str], ...] = ()
    per_goal: bool = False
    ask_if: AskIf | None = None
    records: str | None = None  # aha | takeaway | discussion
    consent_for: str | None = None
    support_request: bool = False
    # Placeholders whose values are message ids themselves (translated before use).
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FlowSpec:
    id: str
    title: str
    intro: str | Plural  # a Plural counts its {days}
    outro: str
    questions: tuple[QuestionSpec, ...] = ()
    spread_over_days: bool = False

    def question(self, key: str) -> QuestionSpec:
        return next(q for q in self.questions if q.key == key)


def _consent(key: str, section: str) -> QuestionSpec:
    return QuestionSpec(
        f"{key}_consent",
        "single",
        N_("May the panel hear this?"),
        section,
        choices=CONSENT_CHOICES,
        ask_if=AskIf(key),
        consent_for=key,
    )


def _rating(section: str) -> tuple[QuestionSpec, QuestionSpec]:
    """Where the person stands on each of their learning goals, asked in the same words at the
    welcome (the baseline), the midpoint and the final reflection, so the three can be compared."""
    return (
        QuestionSpec(
            "goal_progress",
            "scale",
            N_("Where do you stand today with your learning goal “{goal}”? 1 = just starting, 5 = fully there."),
            section,
            per_goal=True,
        ),
        QuestionSpec(
            "goal_progress_why",
            "text",
            N_("In one line: why that number for “{goal}”? (write {cmd_skip} to leave it out)"),
            section,
            per_goal=True,
        ),
    )


WELCOME = FlowSpec(
    id="welcome",
    title=N_("Welcome"),
    intro=NP_(
        "Hello {name}! I am reflectbot, the reflection companion of {programme}.\n"
        "What I will ask, and when:\n"
        "• around the middle of your exchange (from {midpoint}), a few short questions on "
        "{days} working day: what you observe, what you learn about your learning goals, what you "
        "achieve, your next steps;\n"
        "• before a panel you present at, your aha moments and a key takeaway;\n"
        "• at the end of your exchange (from {final}), what came of it.\n"
        "Who sees what: your coordinators ({coordinators}) see your answers. The panel sees only "
        "what you agree to share, with your name or anonymously. No one else sees what you write.\n"
        "Write {cmd_help} at any time to see what you can do.",
        "Hello {name}! I am reflectbot, the reflection companion of {programme}.\n"
        "What I will ask, and when:\n"
        "• around the middle of your exchange (from {midpoint}), a few short questions on each of "
        "{days} working days: what you observe, what you learn about your learning goals, what you "
        "achieve, your next steps;\n"
        "• before a panel you present at, your aha moments and a key takeaway;\n"
        "• at the end of your exchange (from {final}), what came of it.\n"
        "Who sees what: your coordinators ({coordinators}) see your answers. The panel sees only "
        "what you agree to share, with your name or anonymously. No one else sees what you write.\n"
        "Write {cmd_help} at any time to see what you can do.",
        "days",
    ),
    outro=N_("Thank you! This is where you start from; I will ask the same again later."),
    questions=_rating("goals"),
)

MIDPOINT = FlowSpec(
    id="midpoint",
    title=N_("Midpoint reflection"),
    intro=NP_(
        "You are halfway through your exchange at {host}. Time to look back and ahead: over the "
        "next {days} working day I will ask a few questions. Write {cmd_all_now} to answer "
        "them all at once, {cmd_skip} to leave one out, {cmd_help} for more.",
        "You are halfway through your exchange at {host}. Time to look back and ahead: over the "
        "next {days} working days I will ask a few questions each day. Write {cmd_all_now} to "
        "answer them all at once, {cmd_skip} to leave one out, {cmd_help} for more.",
        "days",
    ),
    outro=N_("Thank you! Your midpoint reflection is complete. Your coordinators can now read it."),
    spread_over_days=True,
    questions=(
        QuestionSpec(
            "observations",
            "text",
            N_("What have you observed at {host} that surprised you, or that works differently from home?"),
            "observations",
        ),
        QuestionSpec(
            "learning",
            "text",
            N_("Your learning goal: “{goal}”. What have you learned so far towards it?"),
            "learning",
            per_goal=True,
        ),
        *_rating("learning"),
        QuestionSpec(
            "achievements", "text", N_("What have you achieved so far that you are proud of?"), "achievements"
        ),
        QuestionSpec(
            "next_steps", "text", N_("What are your next steps for the rest of your exchange?"), "next_steps"
        ),
        QuestionSpec(
            "opportunities",
            "text",
            N_("Which new opportunities do you see, for you, for {host} or for {home}?"),
            "opportunities",
        ),
        QuestionSpec(
            "aha", "text", N_("What has been your biggest “aha” moment so far?"), "aha", records="aha"
        ),
        _consent("aha", "aha"),
        QuestionSpec(
            "support", "single", N_("Do you need support from your coordinator?"), "support", choices=YES_NO
        ),
        QuestionSpec(
            "support_note",
            "text",
            N_("What would you like your coordinator to know?"),
            "support",
            ask_if=AskIf("support", "yes"),
            support_request=True,
        ),
    ),
)

PANEL_PREP = FlowSpec(
    id="panel-prep",
    title=N_("Panel preparation"),
    intro=N_(
        "The {panel} is on {when}, at {place}. Let us prepare what you would like to share: one to "
        "three aha moments, one key takeaway and one question for the discussion. For each you "
        "choose whether the panel may hear it, with your name or anonymously."
    ),
    outro=N_("Thank you! You are ready for the panel."),
    questions=(
        QuestionSpec(
            "aha_1",
            "text",
            N_("What is an “aha” moment from your exchange you would like to share?"),
            "aha_1",
            records="aha",
        ),
        _consent("aha_1", "aha_1"),
        QuestionSpec(
            "aha_2", "text", N_("Another aha moment? (write {cmd_skip} if there is none)"), "aha_2", records="aha"
        ),
        _consent("aha_2", "aha_2"),
        QuestionSpec(
            "aha_3", "text", N_("A third aha moment? (write {cmd_skip} if there is none)"), "aha_3", records="aha"
        ),
        _consent("aha_3", "aha_3"),
        QuestionSpec(
            "takeaway",
            "text",
            N_("What is the one key takeaway colleagues across the partners should remember?"),
            "takeaway",
            records="takeaway",
        ),
        _consent("takeaway", "takeaway"),
        QuestionSpec(
            "discussion",
            "text",
            N_("Which question would you like the panel to discuss?"),
            "discussion",
            records="discussion",
        ),
        _consent("discussion", "discussion"),
    ),
)

FINAL = FlowSpec(
    id="final",
    title=N_("Final reflection"),
    intro=N_(
        "Your exchange at {host} ends on {end}. A last look back: what came of it, and what should "
        "{home} take home?"
    ),
    outro=N_("Thank you for reflecting with me throughout your exchange. Safe travels home!"),
    questions=(
        QuestionSpec(
            "outcomes",
            "multi",
            N_("Which of these did your exchange bring? Choose all that apply."),
            "outcomes",
            # The report's label is too long for a button in narrow cards.
            choices=tuple(
                (v, N_("Organisational growth") if v == "organisational-development" else label)
                for v, label in OUTCOME_LABELS.items()
            ),
        ),
        *(
            QuestionSpec(
                f"outcome_{value}",
                "text",
                N_("{outcome}: in one sentence, what happened?"),
                "outcomes",
                ask_if=AskIf("outcomes", value),
                params={"outcome": label},
            )
            for value, label in OUTCOME_LABELS.items()
        ),
        *_rating("goals"),
        QuestionSpec(
            "adopt", "text", N_("What should {home} adopt from what you have seen at {host}?"), "adopt"
        ),
    ),
)

MET_CHOICES = (("yes", N_("Yes, we met")), ("not-yet", N_("Not yet")), ("no", N_("No")))
# Some working days after a pairing's introduction; {pair} names the others.
PAIRING_CHECK = FlowSpec(
    id="pairing-check",
    title=N_("Pairing check-in"),
    intro=N_("Some days ago you were paired with {pair}. Two or three short questions about it."),
    outro=N_(
        "Thank you! Your coordinators see whether you met and what you noticed; the panel only what you allowed."
    ),
    questions=(
        QuestionSpec("met", "single", N_("Did you and {pair} meet?"), "met", choices=MET_CHOICES),
        QuestionSpec(
            "noticed",
            "text",
            N_("What did you notice about how {pair} works?"),
            "met",
            ask_if=AskIf("met", "yes"),
        ),
        QuestionSpec(
            "share",
            "text",
            N_("Anything from it you would like to share with the panel? (write {cmd_skip} if not)"),
            "met",
            ask_if=AskIf("met", "yes"),
            records="pairing",
        ),
        _consent("share", "met"),
    ),
)


APPLIED_CHOICES = (("yes", N_("Yes, I have")), ("no", N_("Not yet")))

FOLLOW_UP = FlowSpec(
    id="follow-up",
    title=N_("Follow-up after your exchange"),
    intro=NP_(
        "It is {months} month since your exchange at {host} ended. A few questions on what has "
        "come of it at {home}. Write {cmd_skip} to leave one out.",
        "It is {months} months since your exchange at {host} ended. A few questions on what has "
        "come of it at {home}. Write {cmd_skip} to leave one out.",
        "months",
    ),
    outro=N_("Thank you! Your coordinators can now read how your exchange carries on at home."),
    questions=(
        QuestionSpec(
            "applied",
            "single",
            N_("Have you applied something from your exchange in your work at {home}?"),
            "applied",
            choices=APPLIED_CHOICES,
        ),
        QuestionSpec(
            "applied_what",
            "text",
            N_("What have you applied, and how did it go?"),
            "applied",
            ask_if=AskIf("applied", "yes"),
            records="takeaway",
        ),
        _consent("applied_what", "applied"),
        QuestionSpec(
            "shared_home",
            "text",
            N_("What have you shared with your colleagues at {home}, and how?"),
            "shared_home",
            records="takeaway",
        ),
        _consent("shared_home", "shared_home"),
        QuestionSpec("obstacles", "text", N_("What got in the way?"), "obstacles"),
        QuestionSpec("would_help", "text", N_("What would help you apply more of it?"), "would_help"),
    ),
)

FLOWS: dict[str, FlowSpec] = {
    f.id: f for f in (WELCOME, MIDPOINT, PANEL_PREP, FINAL, FOLLOW_UP, PAIRING_CHECK)
}
SCALE_CHOICES = tuple((str(n), str(n)) for n in range(1, 6))

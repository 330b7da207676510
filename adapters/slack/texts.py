"""Texts only Slack shows (buttons, the form, the App Home tab). English is the message id;
each is translated with `bot.i18n.Translator` into the person's language when it is used."""

from __future__ import annotations

from bot.i18n import N_, NP_

ANSWER_IN_FORM = N_("Answer in a form")
FORM_TITLE = N_("Your answer")  # a modal title: at most 24 characters
FORM_SAVE = N_("Save")
FORM_CLOSE = N_("Close")
FORM_PLACEHOLDER = N_("Write as much as you like.")
SUBMIT_CHOICES = N_("Send my choice")
YOUR_ANSWER = N_("Your answer: {answer}")
YOUR_GOALS = N_("Your learning goals")
HOME_TITLE = N_("Your reflections")
HOME_COMING_UP = N_("Coming up")
HOME_PLANNED = N_("{flow}: from {when}")
HOME_NOTHING_PLANNED = N_("Nothing more is planned for you.")
HOME_ANSWERS = N_("Your answers so far")
HOME_NO_ANSWERS = N_("You have not answered any questions yet.")
HOME_MORE_ANSWERS = NP_(
    "… and {count} earlier answer: /reflect {cmd_export} gives you all of them.",
    "… and {count} earlier answers: /reflect {cmd_export} gives you all of them.",
)
HOME_NOTES = N_("Your notes (what you wrote between questions)")
HOME_HELP = N_("Write /reflect {cmd_help} to see what you can do.")
ANSWERED_IN_DM = N_("I have answered in our direct messages.")
# Shared with bot/commands.py (`status`), so already in every catalogue.
STATUS_LINE = NP_(
    "{flow}: {done} of {total} question answered.", "{flow}: {done} of {total} questions answered.", "total"
)
NEXT_QUESTIONS = N_("Your next questions come on {when}.")

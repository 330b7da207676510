"""The neutral message types every adapter produces and consumes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from enum import StrEnum
from typing import Any, Literal

QuestionKind = Literal["text", "single", "multi", "scale", "info"]


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class Action:
    """A button that is not an answer, e.g. a coordinator marking a support request handled.
    `id` comes back as `Incoming.action` when it is clicked."""

    id: str
    label: str


class Op(StrEnum):
    """What an outgoing message asks of the platform. Each sender declares the ones it can do
    (`bot.ports.Sender.supports`); the outbox never hands a sender one it cannot."""

    # A new message in the person's chat, or a post in a channel: prompts, notices, alerts,
    # digests, panel packs.
    MESSAGE = "message"
    # Update the message that asked `question_id` (the one `shown_in` names, else the latest that
    # asked it) so that it shows the answer now recorded.
    SHOW_ANSWER = "show-answer"
    # Refresh the person's home view (Slack's App Home) from storage.
    PUBLISH_HOME = "publish-home"
    # The person's own data, read from storage when it is sent, with `text` as its introduction.
    DELIVER_EXPORT = "deliver-export"
    # An introduction to the people the person is paired with (`companions`): where the
    # platform can, one chat with all of them saying `group_text`; else `text` in their own chat.
    # A sender without it gets it as a MESSAGE.
    INTRODUCE = "introduce"
    # The person's learning record, printed from storage when it is sent, with `text` as its
    # introduction: a PDF file where the platform takes files, else a signed link to it; `hint`
    # says how to print it on the command line (the terminal shows that).
    DELIVER_RECORD = "deliver-record"


@dataclass(frozen=True)
class Companion:
    """Someone an introduction introduces the person to."""

    person_id: str
    name: str


@dataclass(frozen=True)
class Outgoing:
    """One message for one person, already in their language.

    A question carries what it asks about (flow, question id, the learning goal it quotes, the
    person's goals) so that every platform can render it and match a click to it days later.
    """

    person_id: str
    text: str
    kind: Literal["question", "notice", "alert", "digest", "panel-pack"] = "notice"
    language: str = "en"
    flow: str | None = None
    flow_title: str | None = None
    question_id: int | None = None
    question_kind: QuestionKind | None = None
    goal: str | None = None
    goals: tuple[str, ...] = ()
    choices: tuple[Choice, ...] = ()
    progress: tuple[int, int] | None = None
    progress_label: str | None = None
    hint: str | None = None
    actions: tuple[Action, ...] = ()
    # Replies to a person's own command go out even while they are paused.
    always: bool = False
    op: Op = Op.MESSAGE
    # Digests and panel packs: the same text as Markdown, with what people wrote escaped, for
    # platforms that format it.
    markdown: str | None = None
    # SHOW_ANSWER: the platform's id of the message to update (None: the latest that asked it).
    shown_in: str | None = None
    # INTRODUCE: the others, and the text for a chat with all of them (in each one's language).
    companions: tuple[Companion, ...] = ()
    group_text: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["choices"] = [asdict(c) for c in self.choices]
        data["actions"] = [asdict(a) for a in self.actions]
        data["goals"] = list(self.goals)
        data["companions"] = [asdict(c) for c in self.companions]
        data["progress"] = list(self.progress) if self.progress else None
        data["op"] = self.op.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outgoing:
        data = dict(data)
        data["choices"] = tuple(Choice(**c) for c in data.get("choices") or ())
        data["actions"] = tuple(Action(**a) for a in data.get("actions") or ())
        data["goals"] = tuple(data.get("goals") or ())
        data["companions"] = tuple(Companion(**c) for c in data.get("companions") or ())
        data["progress"] = tuple(data["progress"]) if data.get("progress") else None
        data["op"] = Op(data.get("op") or Op.MESSAGE)
        _from_extra(data, data.pop("extra", None) or {})
        return cls(**{k: v for k, v in data.items() if k in _OUTGOING_FIELDS})


@dataclass(frozen=True)
class Incoming:
    """What a person sent: text, or choice values tagged with the question they answer."""

    platform: str
    user_id: str  # the platform's id for the person (the person id itself on the console)
    text: str | None = None
    question_id: int | None = None
    values: tuple[str, ...] | None = None
    action: str | None = None  # the id of an Action button that was clicked
    event_id: str | None = None
    # True when the platform marks the text as a command (Slack's /reflect); then
    # `support I am unwell` is a command with words, not an answer that starts with "support".
    is_command: bool = False
    # Whether the platform shows a recorded answer in the message that asked the question (a card
    # or a clicked message updated in place). Then, once the reply is taken, an `Op.SHOW_ANSWER`
    # for each question it answered goes to the outbox after the answer.
    show_answer: bool = False
    # The platform's id of the message the click or form came from, when it says.
    message_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        # By hand rather than asdict(): this runs inside every platform request.
        data = {f: getattr(self, f) for f in _INCOMING_FIELDS}
        data["values"] = list(self.values) if self.values is not None else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Incoming:
        data = dict(data)
        data["values"] = tuple(data["values"]) if data.get("values") is not None else None
        # Replies kept before `receipt` became typed: {"slack": {"op": "update", "message": id}}.
        receipt = data.pop("receipt", None)
        if isinstance(receipt, dict) and (receipt.get("slack") or {}).get("message"):
            data.update(show_answer=True, message_id=str(receipt["slack"]["message"]))
        return cls(**{k: v for k, v in data.items() if k in _INCOMING_FIELDS})


_INCOMING_FIELDS = tuple(f.name for f in fields(Incoming))
_OUTGOING_FIELDS = tuple(f.name for f in fields(Outgoing))
# What Slack-only operations were called in `Outgoing.extra` before they were typed.
_OLD_SLACK_OPS = {"home": Op.PUBLISH_HOME, "update": Op.SHOW_ANSWER, "export": Op.DELIVER_EXPORT}


def _from_extra(data: dict[str, Any], extra: dict[str, Any]) -> None:
    """Outbox rows written before operations were typed kept them in `extra`: read them so that
    such a row still does what it was written for after an upgrade."""
    slack = extra.get("slack") or {}
    if slack.get("op") in _OLD_SLACK_OPS:
        data["op"] = _OLD_SLACK_OPS[slack["op"]]
        data.setdefault("shown_in", slack.get("message"))
    if extra.get("markdown") and not data.get("markdown"):
        data["markdown"] = extra["markdown"]


@dataclass(frozen=True)
class Delivery:
    """Where an outgoing message goes: a person's identity on one platform."""

    platform: str
    address: str
    reference: dict[str, Any] | None = None
    # INTRODUCE: where each companion is reached (person id, delivery; None: nowhere now).
    companions: tuple[tuple[str, Delivery | None], ...] = ()
    # How many of the person's messages this drain sends right after this one (a sender may
    # book their pace together).
    following: int = 0

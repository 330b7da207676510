"""Reading and checking a programme file (YAML) before anything is written.

Every error names the file, the line, the entry and the field, so a coordinator can fix the file
without reading Python. See `examples/programme.yaml` for the format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import yaml
from babel import Locale, UnknownLocaleError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

OUTCOMES = (
    "technical-competence",
    "organisational-development",
    "personal-development",
    "innovation",
)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"^([01]?\d|2[0-3]):[0-5]\d$")


@dataclass(frozen=True)
class FileProblem:
    file: str
    line: int | None
    entry: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        field = f", field {self.field!r}" if self.field else ""
        return f"{where}: {self.entry}{field}: {self.message}"


class ProgrammeFileError(Exception):
    def __init__(self, problems: list[FileProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def check_timezone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Asia/Dhaka)") from None
    return value


def check_language(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        locale = Locale.parse(value.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        locale = None
    if locale is None or not locale.language:
        raise ValueError(f"{value!r} is not a language code (use e.g. en, nb, bn, ne, hi, km)")
    return value


def check_time(value: Any) -> str:
    if isinstance(value, int):
        raise ValueError(f'put the time in quotes, e.g. "10:00" (YAML read it as the number {value})')
    if not isinstance(value, str) or not _TIME.match(value):
        raise ValueError(f'{value!r} is not a time of day like "10:00"')
    return value


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class MidpointSpec(_Spec):
    reflection_days: int = Field(default=5, ge=1, le=7)
    prompt_time: str = "10:00"
    prompt_time_is_a_time = field_validator("prompt_time", mode="before")(check_time)


class RemindersSpec(_Spec):
    after_days: int = Field(default=2, ge=1)
    max: int = Field(default=2, ge=0)


class DigestSpec(_Spec):
    every: str = "monday 08:00"

    @field_validator("every")
    @classmethod
    def _every(cls, value: str) -> str:
        parts = value.lower().split()
        if len(parts) != 2 or parts[0][:3] not in WEEKDAYS or not _TIME.match(parts[1]):
            raise ValueError(f'{value!r} is not a weekday and time like "monday 08:00"')
        return value


class RetentionSpec(_Spec):
    # What a person wrote is deleted this many months after their exchange ended; unset: kept.
    delete_after_months: int | None = Field(default=None, ge=1, le=240, strict=True)


class FollowUpsSpec(_Spec):
    # Months after the exchange ends that a follow-up conversation is held (what was applied at
    # home, shared, in the way); asked on the home organisation's working days.
    after_months: list[int] = Field(default=[3, 6], max_length=6)

    @field_validator("after_months")
    @classmethod
    def _months(cls, value: list[int]) -> list[int]:
        if any(isinstance(m, bool) or not 1 <= m <= 36 for m in value):
            raise ValueError("each is a number of months from 1 to 36, e.g. [3, 6]")
        if len(set(value)) != len(value):
            raise ValueError("a number of months is listed twice")
        return sorted(value)


class ProgrammeSpec(_Spec):
    id: str
    name: str
    timezone: str = "UTC"
    language: str = "en"
    teams_tenant: str | None = None
    midpoint: MidpointSpec = MidpointSpec()
    reminders: RemindersSpec = RemindersSpec()
    digest: DigestSpec = DigestSpec()
    retention: RetentionSpec = RetentionSpec()
    follow_ups: FollowUpsSpec = FollowUpsSpec()
    timezone_is_known = field_validator("timezone")(check_timezone)
    language_is_known = field_validator("language")(check_language)


class OrganisationSpec(_Spec):
    id: str
    name: str
    country: str
    workdays: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] | None = None

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        if value.upper() not in holidays.list_supported_countries():
            raise ValueError(f"{value!r} is not a country code with known public holidays (e.g. BD, NP)")
        return value.upper()


class _PersonSpec(_Spec):
    id: str
    name: str
    timezone: str | None = None
    language: str | None = None
    slack: str | None = None
    teams: str | None = None
    timezone_is_known = field_validator("timezone")(check_timezone)
    language_is_known = field_validator("language")(check_language)


class CoordinatorSpec(_PersonSpec):
    partnerships: list[str] = []


class GoalSpec(_Spec):
    id: str
    text: str
    outcome: Literal[
        "technical-competence", "organisational-development", "personal-development", "innovation"
    ]


class PartnershipSpec(_Spec):
    id: str
    name: str
    organisations: list[str]
    learning_goals: list[GoalSpec] = []


class ParticipantSpec(_PersonSpec):
    partnership: str
    home: str
    host: str
    start: date
    end: date
    learning_goals: list[str] = []


class ColleagueSpec(_PersonSpec):
    organisation: str
    # Learning-goal ids the colleague cares about: pairing prefers exchange staff with these goals.
    interests: list[str] = []


class AudienceSpec(_Spec):
    slack_channel: str | None = None
    teams_channel: str | None = None


class PanelSpec(_Spec):
    id: str
    title: str
    at: datetime
    timezone: str | None = None
    place: str = ""
    prep_days_before: int = Field(7, ge=0)
    presenters: list[str] = []
    audience: AudienceSpec = AudienceSpec()
    timezone_is_known = field_validator("timezone")(check_timezone)


_EVERY = re.compile(r"^(\d+)?\s*(day|days|week|weeks)$")


class PairingSpec(_Spec):
    """Pairing exchange staff with permanent colleagues (see `bot.pairing`)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)

    every: str = "2 weeks"
    from_: date = Field(alias="from")
    until: date
    # on-exchange: participants on exchange with colleagues of their host organisation;
    # returned: returned participants with colleagues of their home organisation; both.
    who: Literal["on-exchange", "returned", "both"] = "on-exchange"
    # opt-in: nobody is paired before saying yes; opt-out: paired unless they write `pairing off`.
    ask: Literal["opt-in", "opt-out"] = "opt-in"
    check_back_after_days: int = Field(default=5, ge=1, le=20)
    # How long after their return a participant is still paired (with `who: returned` or `both`).
    returned_within_days: int = Field(default=180, ge=0)

    @field_validator("every")
    @classmethod
    def _every(cls, value: str) -> str:
        every_days(value)
        return value


def every_days(value: str) -> int:
    """`every: 2 weeks` → 14; at least a week, so nobody meets a new pair every few days."""
    match = _EVERY.match(value.lower().strip())
    if match is None:
        raise ValueError(f'{value!r} is not a period like "2 weeks" or "10 days"')
    number = int(match.group(1) or 1)
    days = number * (7 if match.group(2).startswith("week") else 1)
    if days < 7:
        raise ValueError(f'{value!r} is shorter than a week; pair at most weekly, e.g. "1 week"')
    return days


class ProgrammeFile(_Spec):
    programme: ProgrammeSpec
    organisations: list[OrganisationSpec] = []
    coordinators: list[CoordinatorSpec] = []
    partnerships: list[PartnershipSpec] = []
    participants: list[ParticipantSpec] = []
    colleagues: list[ColleagueSpec] = []
    panels: list[PanelSpec] = []
    pairing: PairingSpec | None = None


Path_ = tuple[str | int, ...]
# Sections that are one mapping, not a list of entries.
_SINGLE_SECTIONS = ("programme", "pairing")


def _line_index(node: yaml.Node, path: Path_ = (), index: dict[Path_, int] | None = None) -> dict[Path_, int]:
    """Map every key path in the document to its 1-based line."""
    index = {} if index is None else index
    index.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, key.value)
            index[child] = key.start_mark.line + 1
            _line_index(value, child, index)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_index(item, (*path, i), index)
    return index


class _Located:
    """Names entries and finds lines for error paths such as ('participants', 0, 'start')."""

    def __init__(self, file: str, raw: Any, lines: dict[Path_, int]) -> None:
        self.file, self.raw, self.lines = file, raw, lines

    def line(self, path: Path_) -> int | None:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())

    def entry(self, path: Path_) -> str:
        if not path:
            return "file"
        section = str(path[0])
        if section in _SINGLE_SECTIONS:
            return section
        if len(path) > 1 and isinstance(path[1], int):
            item = self.raw.get(section, [])[path[1]] if isinstance(self.raw, dict) else None
            ident = item.get("id") if isinstance(item, dict) else None
            name = f"{section} entry {path[1] + 1}"
            return f"{name} (id {ident!r})" if ident is not None else name
        return section

    def problem(self, path: Path_, message: str) -> FileProblem:
        entry_depth = 1 if path and path[0] in _SINGLE_SECTIONS else 2
        field = ".".join(str(p) for p in path[entry_depth:] if not isinstance(p, int))
        return FileProblem(self.file, self.line(path), self.entry(path), field, message)


# libyaml's parser when PyYAML was built with it (the wheels are): a large file reads several
# times faster than with the pure-Python one.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):  # type: ignore[valid-type,misc]
    """YAML's own date reading raises a bare ValueError for 2027-13-11 or 2027-02-30, with no
    line; such a value stays text here, and the field check then names file, line and field."""

    def construct_yaml_timestamp(self, node: yaml.Node) -> Any:  # type: ignore[override]
        try:
            return super().construct_yaml_timestamp(node)  # type: ignore[arg-type]
        except ValueError:
            return self.construct_scalar(node)  # type: ignore[arg-type]


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)
_BOMS = {b"\xff\xfe": "UTF-16", b"\xfe\xff": "UTF-16"}


def _read(path: Path) -> str:
    name = str(path)

    def problem(message: str, line: int | None = None) -> ProgrammeFileError:
        return ProgrammeFileError([FileProblem(name, line, "file", "", message)])

    if path.is_dir():
        raise problem("is a directory; give the programme file (a .yaml file) inside it")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise problem("no such file (check the path; see examples/programme.yaml)") from None
    except OSError as exc:
        raise problem(exc.strerror or str(exc)) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        saved = _BOMS.get(data[:2])
        if saved or b"\0" in data[:4096]:
            what = f"saved as {saved}" if saved else "not text (a binary file?)"
            raise problem(f"{what}; save it as UTF-8 text (in Notepad: Save as → Encoding: UTF-8)") from None
        line = data[: exc.start].count(b"\n") + 1
        raise problem(
            f"not UTF-8 text (byte {data[exc.start]:#04x}); save it as UTF-8 in your editor", line
        ) from None


def _parse(text: str) -> tuple[yaml.Node | None, Any]:
    """The document's node tree (its line numbers name where a problem is) and its values, from
    one parse: the values are constructed from the nodes."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


def load_programme_file(path: Path) -> ProgrammeFile:
    """Parse and check a programme file; raise ProgrammeFileError listing every problem found."""
    name = str(path)
    text = _read(path)
    try:
        node, raw = _parse(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        entry, field = _entry_near(text, line) if line else ("file", "")
        message = f"YAML syntax error: {exc.problem or exc}"
        raise ProgrammeFileError([FileProblem(name, line, entry, field, message)]) from None
    if not isinstance(raw, dict) or node is None:
        raise ProgrammeFileError(
            [
                FileProblem(
                    name, 1, "file", "", "not a programme file: expected `programme:` and the other sections "
                    "as in examples/programme.yaml"
                )
            ]
        )
    where = _Located(name, raw, _line_index(node))
    try:
        spec = ProgrammeFile.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
            message = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                message = "unknown setting (check its spelling)"
            problems.append(where.problem(loc, message))
        raise ProgrammeFileError(problems) from None
    problems = _cross_check(spec, where)
    if problems:
        raise ProgrammeFileError(problems)
    return spec


_SECTION = re.compile(r"^([A-Za-z_]+):")
_ITEM_ID = re.compile(r"^\s*-\s*\{?\s*id:\s*([^,}\s]+)")
_KEY = re.compile(r"^\s*-?\s*([A-Za-z_]+):")


def _entry_near(text: str, line: int) -> tuple[str, str]:
    """For a file YAML cannot parse: the section, entry and field around the broken line,
    read from the text itself, so the coordinator knows where to look."""
    lines = text.splitlines()[:line]
    section, ident, field, index = "file", None, "", 0
    for i, raw in enumerate(lines):
        if m := _SECTION.match(raw):
            section, ident, index = m.group(1), None, 0
        elif m := _ITEM_ID.match(raw):
            ident, index = m.group(1), index + 1
        if (m := _KEY.match(raw)) and i >= len(lines) - 2:
            field = m.group(1)
    if section == "file":
        return "file", field
    if ident is None:
        return section, field
    return f"{section} entry {index} (id {ident!r})", field


def _cross_check(spec: ProgrammeFile, where: _Located) -> list[FileProblem]:
    problems: list[FileProblem] = []
    organisations = {o.id for o in spec.organisations}
    partnerships = {p.id: p for p in spec.partnerships}
    goals = {g.id: p.id for p in spec.partnerships for g in p.learning_goals}

    def unique(section: str, ids: list[str], seen: set[str], what: str) -> None:
        for i, ident in enumerate(ids):
            if ident in seen:
                problems.append(where.problem((section, i, "id"), f"duplicate {what} id {ident!r}"))
            seen.add(ident)

    unique("organisations", [o.id for o in spec.organisations], set(), "organisation")
    unique("partnerships", [p.id for p in spec.partnerships], set(), "partnership")
    unique("panels", [p.id for p in spec.panels], set(), "panel")
    people: set[str] = set()
    for section in ("coordinators", "participants", "colleagues"):
        unique(section, [p.id for p in getattr(spec, section)], people, "person")
    goal_seen: set[str] = set()
    for i, partnership in enumerate(spec.partnerships):
        for j, g in enumerate(partnership.learning_goals):
            if g.id in goal_seen:
                problems.append(
                    where.problem(
                        ("partnerships", i, "learning_goals", j, "id"), f"duplicate learning goal id {g.id!r}"
                    )
                )
            goal_seen.add(g.id)
        for j, org in enumerate(partnership.organisations):
            if org not in organisations:
                problems.append(
                    where.problem(("partnerships", i, "organisations", j), f"unknown organisation {org!r}")
                )

    identities: dict[tuple[str, str], str] = {}
    for section in ("coordinators", "participants", "colleagues"):
        for i, person in enumerate(getattr(spec, section)):
            for platform in ("slack", "teams"):
                ext = getattr(person, platform)
                if ext is None:
                    continue
                other = identities.setdefault((platform, ext), person.id)
                if other != person.id:
                    problems.append(
                        where.problem((section, i, platform), f"{platform} id {ext!r} is already {other!r}'s")
                    )

    for i, coordinator in enumerate(spec.coordinators):
        for j, ref in enumerate(coordinator.partnerships):
            if ref not in partnerships:
                problems.append(
                    where.problem(("coordinators", i, "partnerships", j), f"unknown partnership {ref!r}")
                )
    for i, participant in enumerate(spec.participants):
        if participant.partnership not in partnerships:
            problems.append(
                where.problem(("participants", i, "partnership"), f"unknown partnership {participant.partnership!r}")
            )
        for field in ("home", "host"):
            if getattr(participant, field) not in organisations:
                problems.append(
                    where.problem(("participants", i, field), f"unknown organisation {getattr(participant, field)!r}")
                )
        if participant.end <= participant.start:
            problems.append(
                where.problem(("participants", i, "end"), f"end {participant.end} is not after start {participant.start}")
            )
        for j, goal in enumerate(participant.learning_goals):
            if goal not in goals:
                problems.append(
                    where.problem(("participants", i, "learning_goals", j), f"unknown learning goal {goal!r}")
                )
            elif goals[goal] != participant.partnership:
                problems.append(
                    where.problem(
                        ("participants", i, "learning_goals", j),
                        f"learning goal {goal!r} belongs to partnership {goals[goal]!r}, not {participant.partnership!r}",
                    )
                )
    for i, colleague in enumerate(spec.colleagues):
        if colleague.organisation not in organisations:
            problems.append(
                where.problem(("colleagues", i, "organisation"), f"unknown organisation {colleague.organisation!r}")
            )
        for j, goal in enumerate(colleague.interests):
            if goal not in goals:
                problems.append(
                    where.problem(("colleagues", i, "interests", j), f"unknown learning goal {goal!r}")
                )
    if spec.pairing is not None and spec.pairing.until <= spec.pairing.from_:
        problems.append(
            where.problem(
                ("pairing", "until"), f"until {spec.pairing.until} is not after from {spec.pairing.from_}"
            )
        )
    participants = {p.id for p in spec.participants}
    for i, panel in enumerate(spec.panels):
        for j, ref in enumerate(panel.presenters):
            if ref not in participants:
                problems.append(where.problem(("panels", i, "presenters", j), f"unknown participant {ref!r}"))
    return problems


def local_time(value: str) -> time:
    hour, minute = value.split(":")
    return time(int(hour), int(minute))

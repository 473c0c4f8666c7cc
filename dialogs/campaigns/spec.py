"""Campaign files: read, check and describe an HR campaign written in YAML.

The file is checked twice: against the JSON schema in ``content/campaign.schema.json`` (shape,
types, formats) and then for what a schema cannot say (ids unique, references to workshops and
earlier steps, every text in the default language, placeholders). Every problem is reported with
its YAML path and line, all at once, so a programme lead fixes the file in one go.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import cache, cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import yaml
from jsonschema import Draft202012Validator

from dialogs.campaigns import pulse_spec
from dialogs.campaigns.pulse_spec import Pulse
from dialogs.engine.content import CONTENT_DIR, LANGUAGES

SCHEMA_FILE = CONTENT_DIR / "campaign.schema.json"
PLACEHOLDERS = frozenset({"first_name"})
"""What a message may contain in braces: ``Hello {first_name}!``."""
MAX_MESSAGE_CHARS = 2500
ACTIONS = ("interested", "not_for_me", "remind_tomorrow", "experiment", "reflect", "pulse")
RESPONDED = "responded"
NOT_RESPONDED = "not_responded"
SKIP = "skip"
EARLIER = "earlier"
DEFAULT_REMINDERS = ("1d",)
"""Attendee reminders when the file names none: the day before."""
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}

Localised = dict[str, str]


class _Loader(yaml.SafeLoader):
    """YAML without the surprises of YAML 1.1 for a campaign file: dates and times stay text
    (the schema checks them), and only true/false are booleans (``NO`` is Norway)."""


_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)
for _digit in "0123456789":  # 11:00 is a time, not the sexagesimal number 660
    _Loader.yaml_implicit_resolvers.setdefault(_digit, []).insert(
        0, ("tag:yaml.org,2002:str", re.compile(r"^\d{1,2}:\d{2}$"))
    )


@dataclass(frozen=True)
class Problem:
    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}, " if self.line else ""
        return f"{where}{self.path or '(top)'}: {self.message}"


class CampaignFileError(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Workshop:
    id: str
    title: Localised
    starts: datetime
    minutes: int | None = None
    where: Localised | None = None
    capacity: int | None = None
    zone: str | None = None
    """Its IANA time zone; None: the fixed offset of ``starts``."""
    cancelled: bool = False

    @property
    def tz(self) -> tzinfo:
        if self.zone:
            return ZoneInfo(self.zone)
        assert self.starts.tzinfo is not None
        return self.starts.tzinfo

    @property
    def ends(self) -> datetime:
        return self.starts + timedelta(minutes=self.minutes or 60)

    def before(self, span: str) -> datetime:
        """The moment ``span`` (1d, 2h, 30m) before it starts; days are counted in its own
        zone, so "1d" is the same clock time the day before, also across a DST change."""
        amount, unit = int(span[:-1]), _UNITS[span[-1]]
        if unit == "days":
            local = self.starts.astimezone(self.tz).replace(tzinfo=None) - timedelta(days=amount)
            return local.replace(tzinfo=self.tz).astimezone(UTC)
        return (self.starts - timedelta(**{unit: amount})).astimezone(UTC)


@dataclass(frozen=True)
class Link:
    label: Localised
    url: str


@dataclass(frozen=True)
class Step:
    id: str
    day: int
    message: Localised
    time: str | None = None
    """Local time; None: the organisation's nudge time."""
    image: str | None = None
    links: tuple[Link, ...] = ()
    actions: tuple[str, ...] = ()
    experiment: Localised | None = None
    rsvp: tuple[str, ...] = ()
    only: tuple[str, str] | None = None
    """(``responded`` or ``not_responded``, an earlier step's id)."""
    workshop: str | None = None
    before: str | None = None
    """With ``workshop``: the step goes this long before it starts (``day`` is then derived)."""
    too_late: str = SKIP
    """An invitation that would reach someone after its workshop starts: ``skip`` or
    ``earlier``."""
    stories: int = 0
    """How many "stories from colleagues" go under the message: the newest their authors
    shared with HR for campaigns (none shared: the message alone)."""

    @property
    def answerable(self) -> bool:
        """Whether the message has buttons whose press counts as a response."""
        return bool(self.actions or self.rsvp)

    @property
    def invites_to(self) -> tuple[str, ...]:
        """The workshops the message is about: its sign-up lines, and the one it is timed by.
        It is of no use after they have all started."""
        return tuple(dict.fromkeys((*self.rsvp, *([self.workshop] if self.workshop else []))))


@dataclass(frozen=True)
class Audience:
    everyone: bool = True
    departments: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    started_after: date | None = None
    started_before: date | None = None
    emails: tuple[str, ...] = ()
    exclude_departments: tuple[str, ...] = ()
    exclude_roles: tuple[str, ...] = ()
    exclude_countries: tuple[str, ...] = ()
    exclude_emails: tuple[str, ...] = ()


@dataclass(frozen=True)
class CampaignSpec:
    id: str
    name: Localised
    owner: str
    default_language: str
    start: date | None
    """Day 0; None: each person's own start date (an onboarding campaign)."""
    audience: Audience
    steps: tuple[Step, ...]
    workshops: tuple[Workshop, ...] = ()
    attendee_reminders: tuple[str, ...] = DEFAULT_REMINDERS
    pulse: Pulse | None = None
    """A learning-needs pulse (``dialogs/campaigns/pulse_spec.py``)."""
    raw: dict[str, Any] = field(default_factory=dict, compare=False)
    """The file's data, JSON-safe: what is stored, and what ``from_stored`` reads back."""

    @property
    def hash(self) -> str:
        canonical = json.dumps(self.raw, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def text(self, value: Localised | None, lang: str) -> str:
        """``value`` in ``lang``, else in the campaign's default language."""
        if not value:
            return ""
        return value.get(lang) or value.get(self.default_language) or next(iter(value.values()))

    def step(self, step_id: str | None) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)

    def workshop(self, workshop_id: str) -> Workshop | None:
        return next((w for w in self.workshops if w.id == workshop_id), None)

    @cached_property
    def languages(self) -> frozenset[str]:
        """The languages the campaign's messages are written in."""
        return frozenset(lang for step in self.steps for lang in step.message)

    @property
    def last_day(self) -> int:
        return max(s.day for s in self.steps)


# -- reading ---------------------------------------------------------------------------------


def load_file(path: Path) -> CampaignSpec:
    """Read and check a campaign file; raises :class:`CampaignFileError` listing every problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CampaignFileError([Problem("", f"cannot read {path}: {error}")]) from error
    return parse(text)


def parse(text: str) -> CampaignSpec:
    try:
        data = yaml.load(text, Loader=_Loader)
        lines = _lines(yaml.compose(text, Loader=_Loader))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(error, "problem", None) or str(error)
        raise CampaignFileError([Problem("", f"not valid YAML: {problem}", line)]) from error
    if not isinstance(data, dict):
        raise CampaignFileError([Problem("", "a campaign file holds a mapping (id: …, steps: …)")])
    problems = [
        Problem(
            _path(error.absolute_path), _schema_message(error), _line(lines, error.absolute_path)
        )
        for error in sorted(_validator().iter_errors(data), key=lambda e: list(map(str, e.path)))
    ]
    if not problems:
        problems = [
            Problem(_path(path), message, _line(lines, path)) for path, message in _meaning(data)
        ]
    if problems:
        raise CampaignFileError(problems)
    return from_stored(data)


def from_stored(data: Mapping[str, Any]) -> CampaignSpec:
    """The spec of checked (or stored) campaign data."""
    default = str(data.get("default_language", "en"))

    def loc(value: Any) -> Localised:
        if isinstance(value, str):
            return {default: value}
        return {str(k): str(v) for k, v in value.items()}

    start = None if data["start"] == "start_date" else date.fromisoformat(data["start"])
    audience = data.get("audience", "everyone")
    workshops = tuple(
        Workshop(
            id=w["id"],
            title=loc(w["title"]),
            starts=datetime.fromisoformat(w["starts"]),
            minutes=w.get("minutes"),
            where=loc(w["where"]) if "where" in w else None,
            capacity=w.get("capacity"),
            zone=w.get("zone"),
            cancelled=bool(w.get("cancelled", False)),
        )
        for w in data.get("workshops", [])
    )
    by_id = {w.id: w for w in workshops}

    def day(s: Mapping[str, Any]) -> int:
        """A workshop-timed step's day: the campaign day it goes out on in the workshop's
        zone (what ordering, reports and "finished" go by)."""
        if "day" in s:
            return int(s["day"])
        workshop = by_id[s["workshop"]]
        local = workshop.before(s["before"]).astimezone(workshop.tz).date()
        return max(0, (local - start).days) if start is not None else 0

    return CampaignSpec(
        id=data["id"],
        name=loc(data["name"]),
        owner=str(data["owner"]).strip().lower(),
        default_language=default,
        start=start,
        audience=_audience(audience),
        workshops=workshops,
        attendee_reminders=tuple(data.get("attendee_reminders", DEFAULT_REMINDERS)),
        pulse=pulse_spec.read(data.get("pulse"), default),
        steps=tuple(
            Step(
                id=s["id"],
                day=day(s),
                time=s.get("time"),
                message=loc(s["message"]),
                image=s.get("image"),
                links=tuple(Link(loc(link["label"]), link["url"]) for link in s.get("links", [])),
                actions=tuple(s.get("actions", [])),
                experiment=loc(s["experiment"]) if "experiment" in s else None,
                rsvp=tuple(s.get("rsvp", [])),
                only=next(iter(s["only"].items())) if "only" in s else None,
                workshop=s.get("workshop"),
                before=s.get("before"),
                too_late=s.get("too_late", SKIP),
                stories=int(s.get("stories", 0)),
            )
            for s in data["steps"]
        ),
        raw=json.loads(json.dumps(data)),
    )


def _audience(value: Any) -> Audience:
    if value == "everyone":
        return Audience()
    exclude = value.get("exclude", {})

    def day(key: str) -> date | None:
        return date.fromisoformat(value[key]) if key in value else None

    def lower(items: list[str]) -> tuple[str, ...]:
        return tuple(item.strip().lower() for item in items)

    return Audience(
        everyone=False,
        departments=tuple(value.get("departments", [])),
        roles=tuple(value.get("roles", [])),
        countries=tuple(c.upper() for c in value.get("countries", [])),
        started_after=day("started_after"),
        started_before=day("started_before"),
        emails=lower(value.get("emails", [])),
        exclude_departments=tuple(exclude.get("departments", [])),
        exclude_roles=tuple(exclude.get("roles", [])),
        exclude_countries=tuple(c.upper() for c in exclude.get("countries", [])),
        exclude_emails=lower(exclude.get("emails", [])),
    )


# -- checking --------------------------------------------------------------------------------


@cache
def _validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _schema_message(error: Any) -> str:
    """The schema's complaint in words a programme lead can act on."""
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        allowed = ", ".join(error.schema.get("properties", {}))
        return f"unknown field {', '.join(map(repr, extra))} (allowed: {allowed})"
    if error.validator == "oneOf":
        return "give either day (and an optional time) or workshop and before, not both"
    if error.validator == "required":
        return str(error.message).replace("is a required property", "is missing")
    if error.validator == "pattern":
        return f"{error.instance!r} is not in the expected form"
    if error.validator == "anyOf" and isinstance(error.instance, dict | list | str | int):
        hint = error.schema.get("description", "")
        return f"{json.dumps(error.instance)[:60]} is not allowed here" + (
            f" ({hint})" if hint else ""
        )
    return str(error.message)


def _meaning(data: dict[str, Any]) -> Iterator[tuple[list[str | int], str]]:
    """What a schema cannot check."""
    default = data.get("default_language", "en")
    workshops = {w["id"] for w in data.get("workshops", [])}
    for index, workshop in enumerate(data.get("workshops", [])):
        if [w["id"] for w in data["workshops"]].count(workshop["id"]) > 1:
            yield ["workshops", index, "id"], f"workshop id {workshop['id']!r} is used twice"
        try:
            starts = datetime.fromisoformat(workshop["starts"])
        except ValueError:
            yield ["workshops", index, "starts"], "not a date and time (2026-12-08T10:00+01:00)"
        else:
            if starts.tzinfo is None:
                yield (
                    ["workshops", index, "starts"],
                    "needs its UTC offset, e.g. 2026-12-08T10:00+01:00",
                )
            elif "zone" in workshop:
                yield from _zone_problems(workshop, starts, ["workshops", index])
    seen: list[str] = []
    for index, step in enumerate(data["steps"]):
        at: list[str | int] = ["steps", index]
        if step["id"] in seen:
            yield [*at, "id"], f"step id {step['id']!r} is used twice"
        for kind, earlier in step.get("only", {}).items():
            if earlier not in seen:
                yield [*at, "only", kind], f"{earlier!r} is not an earlier step"
            else:
                before = next(s for s in data["steps"] if s["id"] == earlier)
                if not (before.get("actions") or before.get("rsvp")):
                    yield (
                        [*at, "only", kind],
                        f"step {earlier!r} has no buttons, so nobody can respond to it",
                    )
        seen.append(step["id"])
        for n, workshop_id in enumerate(step.get("rsvp", [])):
            if workshop_id not in workshops:
                yield [*at, "rsvp", n], f"no workshop with id {workshop_id!r}"
        if "workshop" in step and step["workshop"] not in workshops:
            yield [*at, "workshop"], f"no workshop with id {step['workshop']!r}"
        if "too_late" in step and not (step.get("rsvp") or "workshop" in step):
            yield [*at, "too_late"], "only for a step that invites to a workshop (rsvp or workshop)"
        actions = step.get("actions", [])
        if "experiment" in actions and "experiment" not in step:
            yield [*at, "actions"], "the experiment button needs an 'experiment' text to propose"
        if "experiment" in step and "experiment" not in actions:
            yield [*at, "experiment"], "add 'experiment' to actions to offer it"
        for lang in LANGUAGES:
            message = step["message"] if isinstance(step["message"], str) else None
            if message is None:
                message = step["message"].get(lang)
            if message is None:
                continue
            where: list[str | int] = (
                [*at, "message"] if isinstance(step["message"], str) else [*at, "message", lang]
            )
            if len(message) > MAX_MESSAGE_CHARS:
                yield where, f"{len(message)} characters; at most {MAX_MESSAGE_CHARS}"
            problem = _placeholder_problem(message)
            if problem:
                yield where, problem
    yield from pulse_spec.problems(data)
    yield from _default_language_present(data, default, [])


def _zone_problems(
    workshop: Mapping[str, Any], starts: datetime, at: list[str | int]
) -> Iterator[tuple[list[str | int], str]]:
    """The zone exists, and the offset written in ``starts`` is that zone's on that day (the
    classic slip: +01:00 for a summer date in Amsterdam)."""
    zone = str(workshop["zone"])
    try:
        tz = ZoneInfo(zone) if zone in _zones() else None
    except (ZoneInfoNotFoundError, ValueError):
        tz = None
    if tz is None:
        yield [*at, "zone"], f"{zone!r} is not a time zone (e.g. Europe/Amsterdam)"
        return
    own = starts.replace(tzinfo=None).replace(tzinfo=tz).utcoffset()
    if own != starts.utcoffset():
        hours = (own or timedelta()).total_seconds() / 3600
        yield (
            [*at, "starts"],
            f"the offset does not match {zone} on that day (UTC{hours:+g}); write "
            f"{starts.replace(tzinfo=None).replace(tzinfo=tz).isoformat(timespec='minutes')}",
        )


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _default_language_present(
    node: Any, default: str, path: list[str | int]
) -> Iterator[tuple[list[str | int], str]]:
    """Every text given per language has the campaign's default language (the fallback)."""
    if isinstance(node, dict):
        if node and set(node) <= set(LANGUAGES) and all(isinstance(v, str) for v in node.values()):
            if default not in node:
                yield path, f"has no {default!r} text (the campaign's default_language)"
            return
        for key, value in node.items():
            yield from _default_language_present(value, default, [*path, key])
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _default_language_present(value, default, [*path, index])


def _placeholder_problem(text: str) -> str | None:
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as error:
        return f"braces do not match ({error}); write {{{{ and }}}} for a literal brace"
    unknown = sorted(set(fields) - PLACEHOLDERS)
    if unknown:
        allowed = ", ".join(f"{{{p}}}" for p in sorted(PLACEHOLDERS))
        return f"unknown placeholder {', '.join(f'{{{u}}}' for u in unknown)} (allowed: {allowed})"
    return None


def fill(text: str, *, first_name: str) -> str:
    """A checked message with its placeholders filled in."""
    return text.format(first_name=first_name)


# -- YAML paths and lines ----------------------------------------------------------------------


def _path(parts: Any) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _lines(node: yaml.Node | None) -> dict[tuple[str | int, ...], int]:
    found: dict[tuple[str | int, ...], int] = {}

    def walk(current: yaml.Node, path: tuple[str | int, ...]) -> None:
        found[path] = current.start_mark.line + 1
        if isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                found[(*path, str(key.value))] = key.start_mark.line + 1
                walk(value, (*path, str(key.value)))
                found[(*path, str(key.value))] = key.start_mark.line + 1
        elif isinstance(current, yaml.SequenceNode):
            for index, value in enumerate(current.value):
                walk(value, (*path, index))

    if node is not None:
        walk(node, ())
    return found


def _line(lines: dict[tuple[str | int, ...], int], path: Any) -> int | None:
    parts = tuple(path)
    while parts and parts not in lines:
        parts = parts[:-1]
    return lines.get(parts)

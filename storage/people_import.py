"""Importing the org chart from a CSV export (HR system, spreadsheet).

The import is all-or-nothing: a half-applied org chart (some managers linked, others not) is
worse than none, so every row is checked first and nothing is written if any row is bad. Every
problem is reported at once, with its line number, so HR can fix the file in one go.

Columns absent from the header are left untouched on people who already exist (a file without
``department`` must not wipe everyone's department); an empty cell means "use the default".
``buddy_email`` (optional) names a new hire's buddy: someone in the file or already known, and
not the person themself.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from storage.models import Person, Role

COLUMNS = (
    "email",
    "name",
    "manager_email",
    "department",
    "role",
    "language",
    "timezone",
    "country",
    "start_date",
    "buddy_email",
)
REQUIRED = ("email", "name")
LANGUAGES = ("nl", "en")
MAX_CELL = 200

# C0/C1 controls break chat rendering and logs; bidi overrides let a name display as another.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_COUNTRY = re.compile(r"[A-Za-z]{2}")


@dataclass(frozen=True)
class RowError:
    line: int
    email: str
    message: str


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    errors: tuple[RowError, ...]

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Row:
    line: int
    email: str
    values: dict[str, Any]
    present: frozenset[str]
    manager_email: str | None = None  # None: the column is absent; "": no manager
    buddy_email: str | None = None  # the same for the new hire's buddy
    problems: list[str] = field(default_factory=list)


def _clean(cell: str) -> str:
    return _UNSAFE.sub("", cell).strip()


def _valid_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except Exception:  # zoneinfo raises several types for odd keys (paths, NULs, empty)
        return False
    return True


def _read(
    source: TextIO, errors: list[RowError]
) -> tuple[int, list[str] | None, list[tuple[int, list[str]]]]:
    """Header line, header and (line, cells) records; blank lines are skipped, not counted out."""
    reader = csv.reader(source)
    header: list[str] | None = None
    header_line, start, records = 1, 1, []
    try:
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header_line = line
                header = [_clean(cell.lstrip("\ufeff")).lower() for cell in cells]
            else:
                records.append((line, cells))
    except csv.Error as exc:  # e.g. a runaway quote making one giant field
        errors.append(RowError(max(reader.line_num, 1), "", f"unreadable CSV: {exc}"))
    if header is None and not errors:
        errors.append(RowError(1, "", "the file is empty; expected a header row"))
    return header_line, header, records


def _parse(
    line: int, cells: dict[str, str], present: frozenset[str], defaults: dict[str, str]
) -> _Row:
    row = _Row(line=line, email="", values={}, present=present)
    too_long = {column for column, value in cells.items() if len(value) > MAX_CELL}
    for column in sorted(too_long, key=COLUMNS.index):
        row.problems.append(f"{column} is longer than {MAX_CELL} characters")
        cells[column] = ""  # reported once; the checks below then see an empty cell
    email = row.email = cells["email"].lower()
    if "email" not in too_long and not _EMAIL.fullmatch(email):
        row.problems.append(f"invalid e-mail {email!r}" if email else "e-mail is empty")
    if "name" not in too_long and not cells["name"]:
        row.problems.append("name is empty")
    if "manager_email" in present:
        row.manager_email = cells["manager_email"].lower()
        if row.manager_email and not _EMAIL.fullmatch(row.manager_email):
            row.problems.append(f"invalid manager e-mail {row.manager_email!r}")
    if "buddy_email" in present:
        row.buddy_email = cells["buddy_email"].lower()
        if row.buddy_email and not _EMAIL.fullmatch(row.buddy_email):
            row.problems.append(f"invalid buddy e-mail {row.buddy_email!r}")
    role = (cells["role"] or Role.EMPLOYEE).lower()
    if role not in {r.value for r in Role}:
        row.problems.append(f"unknown role {role!r} (use {', '.join(Role)})")
    language = (cells["language"] or defaults["language"]).lower()
    if language not in LANGUAGES:
        row.problems.append(f"unknown language {language!r} (use {', '.join(LANGUAGES)})")
    timezone = cells["timezone"] or defaults["timezone"]
    if not _valid_timezone(timezone):
        row.problems.append(f"unknown timezone {timezone!r}")
    country = cells["country"] or defaults["country"]
    if not _COUNTRY.fullmatch(country):
        row.problems.append(f"country {country!r} is not a two-letter code")
    start_date: date | None = None
    if cells["start_date"]:
        try:
            if not _ISO_DATE.fullmatch(cells["start_date"]):
                raise ValueError
            start_date = date.fromisoformat(cells["start_date"])
        except ValueError:
            row.problems.append(f"start_date {cells['start_date']!r} is not a YYYY-MM-DD date")
    row.values = {
        "name": cells["name"],
        "department": cells["department"],
        "role": role,
        "language": language,
        "timezone": timezone,
        "country": country.upper(),
        "start_date": start_date,
    }
    return row


def _cycles(starts: Iterable[str], manager_of: Callable[[str], str | None]) -> list[list[str]]:
    """Every manager cycle reachable from ``starts``, each once (a walk over a functional graph)."""
    state: dict[str, bool] = {}  # True: on the current walk; False: fully explored
    found: list[list[str]] = []
    for start in starts:
        path: list[str] = []
        node: str | None = start
        while node is not None and node not in state:
            state[node] = True
            path.append(node)
            node = manager_of(node)
        if node is not None and state[node]:
            found.append(path[path.index(node) :])
        for visited in path:
            state[visited] = False
    return found


def import_people(
    session: Session,
    source: TextIO,
    *,
    default_language: str = "en",
    default_timezone: str = "Europe/Amsterdam",
    default_country: str = "NL",
) -> ImportResult:
    """Upsert people by e-mail and link managers; flushes only, the caller owns the commit."""
    defaults = dict(language=default_language, timezone=default_timezone, country=default_country)
    errors: list[RowError] = []
    header_line, header, records = _read(source, errors)
    if header is None:
        return ImportResult(0, 0, tuple(errors))
    missing = [column for column in REQUIRED if column not in header]
    repeated = [column for column in COLUMNS if header.count(column) > 1]
    errors += [RowError(header_line, "", f"missing required column {c!r}") for c in missing]
    errors += [RowError(header_line, "", f"column {c!r} appears more than once") for c in repeated]
    if errors:
        return ImportResult(0, 0, tuple(errors))
    index = {column: header.index(column) for column in COLUMNS if column in header}
    present = frozenset(index)

    rows: list[_Row] = []
    for line, cells in records:
        values = {c: _clean(cells[i]) if i < len(cells) else "" for c, i in index.items()}
        rows.append(_parse(line, {c: values.get(c, "") for c in COLUMNS}, present, defaults))

    by_email: dict[str, _Row] = {}
    for row in rows:
        first = by_email.setdefault(row.email, row) if row.email else row
        if first is not row:
            row.problems.append(f"duplicate e-mail {row.email}; first on line {first.line}")
    existing = {p.email.strip().lower(): p for p in session.exec(select(Person)).all()}
    email_of = {p.id: email for email, p in existing.items()}
    for row in rows:
        manager = row.manager_email
        if manager and manager == row.email:
            row.problems.append("is their own manager")
        elif manager and manager not in by_email and manager not in existing:
            row.problems.append(f"unknown manager {manager}")
        buddy = row.buddy_email
        if buddy and buddy == row.email:
            row.problems.append("is their own buddy")
        elif buddy and buddy not in by_email and buddy not in existing:
            row.problems.append(f"unknown buddy {buddy}")

    def manager_of(email: str) -> str | None:
        row = by_email.get(email)
        if row is not None and row.manager_email is not None:
            manager: str | None = row.manager_email
        else:
            person = existing.get(email)
            manager = email_of.get(person.manager_id) if person and person.manager_id else None
        known = manager in by_email or manager in existing
        return manager if manager and manager != email and known else None

    for cycle in _cycles(by_email, manager_of):
        chain = " → ".join([*cycle, cycle[0]])
        for member in cycle:
            if member in by_email:
                by_email[member].problems.append(f"manager cycle: {chain}")

    errors = [RowError(r.line, r.email, msg) for r in rows for msg in r.problems]
    if errors:
        return ImportResult(0, 0, tuple(sorted(errors, key=lambda error: error.line)))

    people = dict(existing)
    changed: set[str] = set()
    for email, row in by_email.items():
        person = existing.get(email)
        if person is None:
            people[email] = Person(email=email, **row.values)
            session.add(people[email])
            continue
        updates = {"email": email} | {k: v for k, v in row.values.items() if k in row.present}
        for key, value in updates.items():
            if getattr(person, key) != value:
                setattr(person, key, value)
                changed.add(email)
    session.flush()  # new people need ids before anyone can point at them
    for email, row in by_email.items():
        for column, other in (("manager_id", row.manager_email), ("buddy_id", row.buddy_email)):
            if other is None:
                continue  # the column is absent: left as it is
            other_id = people[other].id if other else None
            if getattr(people[email], column) != other_id:
                setattr(people[email], column, other_id)
                if email in existing:
                    changed.add(email)
    session.flush()
    return ImportResult(len(people) - len(existing), len(changed), ())

"""People (administrators): the org chart from a CSV file, and one person's role, manager,
buddy and campaign-author scope.

Importing is ``storage.people_import.import_people``, the code of ``regie people import``: all
rows or none, every bad row named with its line. The upload is a dry run first — the import
runs in a transaction that is rolled back, and the page lists every bad row, or what would
change per person — and only "Import" (carrying the same file, checked by its fingerprint)
writes. One person's form is a one-row import (same checks: known manager, no cycles), so
there is one way to change the org chart. Every change is audited with the administrator."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from bot.web import context
from bot.web.hr.access import admin_page, audited, me, render, session
from bot.web.sessions import redirect
from storage import campaign_guardrails as guard
from storage.models import Person, Role
from storage.people_import import COLUMNS, ImportResult, RowError, import_people
from storage.privacy import Reader

MAX_UPLOAD = 5 * 1024 * 1024
SHOWN = 50
COMPARED = tuple(column for column in COLUMNS if column != "email")
"""What a dry run compares for a person already known: every column of the file but the key."""


@dataclass(frozen=True)
class Change:
    email: str
    new: bool
    fields: list[tuple[str, str, str]]
    """(column, before, after) for someone who exists; (column, "", value) for someone new."""


@dataclass(frozen=True)
class DryRun:
    errors: tuple[RowError, ...]
    changes: list[Change]
    created: int
    updated: int


def fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _snapshot(db: Session) -> dict[str, dict[str, str]]:
    people = list(db.exec(select(Person)))
    email_of = {p.id: p.email for p in people}
    return {
        p.email: {
            "name": p.name,
            "manager_email": email_of.get(p.manager_id, "") if p.manager_id else "",
            "department": p.department,
            "role": str(p.role),
            "language": p.language,
            "timezone": p.timezone,
            "country": p.country,
            "start_date": p.start_date.isoformat() if p.start_date else "",
            "buddy_email": email_of.get(p.buddy_id, "") if p.buddy_id else "",
        }
        for p in people
    }


def _import(db: Session, request: web.Request, text: str) -> ImportResult:
    settings = context.settings(request)
    return import_people(
        db,
        io.StringIO(text, newline=""),
        default_language=settings.language,
        default_timezone=settings.timezone,
        default_country=settings.holidays_country,
    )


def dry_run(db: Session, request: web.Request, text: str) -> DryRun:
    """What importing ``text`` would do; nothing is kept (rolled back)."""
    before = _snapshot(db)
    try:
        result = _import(db, request, text)
        after = _snapshot(db) if result.ok else {}
    finally:
        db.rollback()
    changes = []
    for email, values in sorted(after.items()):
        old = before.get(email)
        if old is None:
            shown = [(c, "", values[c]) for c in COMPARED if values[c]]
            changes.append(Change(email, True, shown))
        elif old != values:
            diff = [(c, old[c], values[c]) for c in COMPARED if old[c] != values[c]]
            changes.append(Change(email, False, diff))
    return DryRun(result.errors, changes, result.created, result.updated)


def search(db: Session, query: str) -> list[tuple[Person, str]]:
    found = select(Person)
    if query:
        like = f"%{query.lower()}%"
        found = found.where(
            or_(
                func.lower(Person.email).like(like),
                func.lower(Person.name).like(like),
                func.lower(Person.department).like(like),
            )
        )
    people = list(db.exec(found.order_by(col(Person.email)).limit(SHOWN)))
    managers = {
        m.id: m.email
        for m in db.exec(
            select(Person).where(col(Person.id).in_({p.manager_id for p in people} - {None}))
        )
    }
    return [(p, managers.get(p.manager_id, "") if p.manager_id else "") for p in people]


def _lines(text: str) -> str:
    """One kind of line break: a form sends its fields back with CRLF."""
    return text.replace("\r\n", "\n")


async def _upload_text(request: web.Request) -> tuple[str | None, str]:
    """The CSV text of the form (a file field ``file``, or the carried ``csv`` text), and a
    problem key when there is none or it cannot be read."""
    form = await request.post()
    carried = form.get("csv")
    if isinstance(carried, str) and carried:
        return _lines(carried), ""
    upload = form.get("file")
    if not isinstance(upload, web.FileField):
        return None, "no_file"
    data = upload.file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        return None, "too_large"
    try:
        return _lines(data.decode("utf-8-sig")), ""
    except UnicodeDecodeError:
        return None, "not_utf8"


@admin_page
async def page(request: web.Request) -> web.StreamResponse:
    query = request.query.get("q", "").strip()[:200]

    def work() -> list[tuple[Person, str]]:
        with session(request) as db:
            return search(db, query)

    return render(
        request,
        "hr/people.html",
        {
            "query": query,
            "people": await context.in_thread(work),
            "imported": request.query.get("imported"),
            "updated": request.query.get("updated"),
            "saved": request.query.get("saved"),
        },
    )


@admin_page
async def check(request: web.Request) -> web.StreamResponse:
    text, problem = await _upload_text(request)
    if text is None:
        return render(request, "hr/people_check.html", {"problem": problem}, status=400)

    def work() -> DryRun:
        with session(request) as db:
            return dry_run(db, request, text)

    found = await context.in_thread(work)
    return render(
        request,
        "hr/people_check.html",
        {"problem": "", "run": found, "csv": text, "fingerprint": fingerprint(text)},
        status=200 if not found.errors else 422,
    )


@admin_page
async def import_file(request: web.Request) -> web.StreamResponse:
    actor = me(request)
    now = context.now(request)
    form = await request.post()
    text, problem = await _upload_text(request)
    if text is None or form.get("fingerprint") != fingerprint(text):
        return render(
            request, "hr/people_check.html", {"problem": problem or "changed"}, status=400
        )

    def work() -> ImportResult:
        with session(request) as db:
            result = _import(db, request, text)
            if not result.ok:
                db.rollback()
                return result
            audited(
                db, actor, "people_import", at=now, created=result.created, updated=result.updated
            )
            db.commit()
            return result

    result = await context.in_thread(work)
    if not result.ok:
        run = DryRun(result.errors, [], 0, 0)
        return render(
            request,
            "hr/people_check.html",
            {"problem": "", "run": run, "csv": text, "fingerprint": fingerprint(text)},
            status=422,
        )
    return redirect(f"/app/admin/people?imported={result.created}&updated={result.updated}")


def _person_id(request: web.Request) -> int:
    raw = request.match_info["person_id"]
    return int(raw) if raw.isdigit() and len(raw) < 12 else 0


def _person_view(db: Session, person_id: int) -> dict[str, Any] | None:
    person = db.get(Person, person_id)
    if person is None:
        return None

    def email(other: int | None) -> str:
        found = db.get(Person, other) if other else None
        return found.email if found else ""

    scope = guard.scope_of(db, person_id)
    return {
        "subject": person,
        "manager_email": email(person.manager_id),
        "buddy_email": email(person.buddy_id),
        "scope": str(scope) if scope is not None else "",
        "roles": [str(r) for r in Role],
    }


@admin_page
async def person_page(request: web.Request) -> web.StreamResponse:
    person_id = _person_id(request)

    def work() -> dict[str, Any] | None:
        with session(request) as db:
            return _person_view(db, person_id)

    found = await context.in_thread(work)
    if found is None:
        raise web.HTTPNotFound()
    saved = request.query.get("saved") == "1"
    return render(request, "hr/person.html", found | {"errors": [], "saved": saved})


def _one_row(person: Person, role: str, manager: str, buddy: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["email", "name", "role", "manager_email", "buddy_email"])
    writer.writerow([person.email, person.name, role, manager, buddy])
    return out.getvalue()


@admin_page
async def person_save(request: web.Request) -> web.StreamResponse:
    """Role, manager and buddy (a one-row import: the same checks), and the author scope."""
    actor = me(request)
    now = context.now(request)
    person_id = _person_id(request)
    form = await request.post()

    def field(name: str) -> str:
        value = form.get(name, "")
        return value.strip() if isinstance(value, str) else ""

    def work() -> tuple[str, dict[str, Any] | None, list[str]]:
        with session(request) as db:
            person = db.get(Person, person_id)
            if person is None:
                return "missing", None, []
            before = _snapshot(db)[person.email]
            text = _one_row(
                person, field("role"), field("manager_email").lower(), field("buddy_email").lower()
            )
            result = _import(db, request, text)
            errors = [e.message for e in result.errors]
            scope_text = field("scope")
            parsed: guard.Scope | None = None
            if scope_text:
                try:
                    parsed = guard.Scope.parse(scope_text)
                except guard.ScopeError as error:
                    errors.append(f"scope: {error}")
            if parsed is not None and person.role not in (Role.HR, Role.ADMIN):
                errors.append("scope: campaign authors have the hr or admin role")
            if errors:
                db.rollback()
                return "refused", _person_view(db, person_id), errors
            after = _snapshot(db)[person.email]
            changed = sorted(c for c in COMPARED if before[c] != after[c])
            if changed:
                audited(db, actor, "person_updated", at=now, subject_id=person.id, fields=changed)
            reader = Reader.of(actor)
            current = guard.scope_of(db, person_id)
            if parsed is not None and (current is None or str(current) != str(parsed)):
                guard.set_scope(db, person, parsed, actor=reader, now=now)
            elif parsed is None and current is not None:
                guard.remove_author(db, person, actor=reader, now=now)
            db.commit()
            return "saved", None, []

    outcome, view, errors = await context.in_thread(work)
    if outcome == "missing":
        raise web.HTTPNotFound()
    if outcome == "refused" and view is not None:
        shown = view | {"errors": errors, "saved": False}
        return render(request, "hr/person.html", shown, status=422)
    return redirect(f"/app/admin/people/{person_id}?saved=1")

"""The handlers of "My team" (``/app/team``, ``/app/team/{person_id}``), for managers.

Someone who is not the person's manager asking for their page gets 403 and the attempt is
audited (``storage.refusals``): the person sees it under "who has seen my data"."""

from __future__ import annotations

from datetime import date

import aiohttp_jinja2
from aiohttp import web
from sqlmodel import Session

from bot.web import context
from bot.web.pages import team
from bot.web.sessions import signed_in
from storage.models import Person
from storage.people import manages_anyone
from storage.refusals import record_refused


def _since(request: web.Request, manager: Person) -> tuple[date, bool]:
    """The day chosen in ``?since=`` (not in the future), else the digest's look-back; and
    whether what was asked could be used."""
    now = context.now(request)
    fallback = team.default_since(manager, now=now)
    asked = request.query.get("since", "").strip()
    if not asked:
        return fallback, True
    try:
        chosen = date.fromisoformat(asked)
    except ValueError:
        return fallback, False
    return (chosen, True) if chosen <= now.date() else (fallback, False)


@signed_in
async def team_page(request: web.Request) -> web.StreamResponse:
    me = context.person(request)
    assert me is not None and me.id is not None
    since, understood = _since(request, me)
    now = context.now(request)
    min_group = context.settings(request).min_group_size

    def work() -> team.TeamPage | None:
        with Session(context.engine(request), expire_on_commit=False) as db:
            manager = db.get(Person, me.id)
            if manager is None or not manages_anyone(db, me.id or 0):
                return None
            found = team.build(
                db, context.content(request), manager, now=now, since=since, min_group=min_group
            )
            db.commit()  # the reads' audit entries
            return found

    found = await context.in_thread(work)
    if found is None:
        return _page(request, "pages/no_team.html", {}, status=403)
    return _page(request, "pages/my_team.html", {"page": found, "since_refused": not understood})


@signed_in
async def report_page(request: web.Request) -> web.StreamResponse:
    me = context.person(request)
    assert me is not None and me.id is not None
    raw = request.match_info["person_id"]
    report_id = int(raw) if raw.isdigit() and len(raw) < 12 else 0
    since, understood = _since(request, me)
    now = context.now(request)

    def work() -> team.ReportPage | None:
        with Session(context.engine(request), expire_on_commit=False) as db:
            manager = db.get(Person, me.id)
            found = None
            if manager is not None:
                found = team.build_report(
                    db, context.content(request), manager, report_id, now=now, since=since
                )
            if found is None:
                subject = report_id if db.get(Person, report_id) is not None else None
                record_refused(
                    db, actor_id=me.id or 0, subject_id=subject, at=now, where=request.path
                )
            db.commit()
            return found

    found = await context.in_thread(work)
    if found is None:
        return _page(request, "pages/forbidden.html", {}, status=403)
    return _page(request, "pages/report.html", {"page": found, "since_refused": not understood})


def _page(
    request: web.Request, template: str, values: dict[str, object], status: int = 200
) -> web.Response:
    response = aiohttp_jinja2.render_template(template, request, values, status=status)
    response.headers["Cache-Control"] = "no-store"
    return response

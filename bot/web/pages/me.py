"""The handlers of "My development" (``/app/``): the page, and every change it offers. Each
write goes through the storage function the chat uses for it — sharing through
``storage.privacy.set_visibility`` and ``keep_lesson_private``, deletion through
``storage.personal_data.forget_person``, downloads through ``storage.links`` — so chat and web
always agree. A bad form value gets the page again with a clear message and what was typed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp_jinja2
from aiohttp import web
from sqlmodel import Session

from bot.web import context
from bot.web.download import file_response
from bot.web.export_files import redeem_file
from bot.web.pages import development
from bot.web.sessions import cookie_name, redirect, signed_in
from bot.web.urls import DOWNLOAD_PREFIX, HOME
from dialogs.engine.content import LANGUAGES
from dialogs.flows.preferences import NUDGE_FREQUENCIES, find_timezone
from storage import links
from storage.models import LinkPurpose, Person, Visibility
from storage.people import manages_anyone, pause_nudges, set_preferences
from storage.personal_data import forget_person
from storage.privacy import ITEM_TYPES, keep_lesson_private, set_visibility

DOWNLOADS = {"json": LinkPurpose.DOWNLOAD_JSON, "page": LinkPurpose.DOWNLOAD_PAGE}


@dataclass
class Problems:
    """What was wrong with a form, by field (texts in the person's language), and what was
    typed, so the page shows it again."""

    errors: dict[str, str] = field(default_factory=dict)
    typed: dict[str, str] = field(default_factory=dict)
    status: int = 400


def _db(request: web.Request) -> Session:
    return Session(context.engine(request), expire_on_commit=False)


def _me(request: web.Request) -> Person:
    person = context.person(request)
    assert person is not None  # @signed_in
    return person


async def _render(request: web.Request, problems: Problems | None = None) -> web.Response:
    person = _me(request)
    now = context.now(request)

    def work() -> tuple[development.DevelopmentPage, bool]:
        with _db(request) as db:
            fresh = db.get(Person, person.id)
            assert fresh is not None
            page = development.build(db, context.content(request), fresh, now=now)
            return page, manages_anyone(db, _id(fresh))

    page, manages = await context.in_thread(work)
    problems = problems or Problems(status=200)
    response = aiohttp_jinja2.render_template(
        "pages/my_development.html",
        request,
        {
            "page": page,
            "manages": manages,
            "errors": problems.errors,
            "typed": problems.typed,
            "notice": request.query.get("done", ""),
        },
        status=problems.status,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _id(person: Person) -> int:
    assert person.id is not None
    return person.id


@signed_in
async def page(request: web.Request) -> web.StreamResponse:
    return await _render(request)


async def _form(request: web.Request) -> dict[str, str]:
    form = await request.post()
    return {key: value for key, value in form.items() if isinstance(value, str)}


@signed_in
async def visibility(request: web.Request) -> web.StreamResponse:
    """Share one item with the manager, or make it private again (the chat's switch)."""
    kind = request.match_info["kind"]
    item_id = _int(request.match_info["item_id"])
    wanted = (await _form(request)).get("visibility", "")
    if kind not in ITEM_TYPES or item_id is None or wanted not in tuple(Visibility):
        raise web.HTTPNotFound()
    owner = _id(_me(request))

    def work() -> bool:
        with _db(request) as db:
            changed = set_visibility(
                db, owner_id=owner, item_type=kind, item_id=item_id, visibility=wanted
            )
            db.commit()
            return changed is not None

    if not await context.in_thread(work):
        raise web.HTTPNotFound()  # not theirs: no hint whether it exists
    return redirect(f"{HOME}?done={wanted}#{kind}-{item_id}")


@signed_in
async def lesson(request: web.Request) -> web.StreamResponse:
    """Keep an experiment's lesson private while the experiment is shared, or share it."""
    item_id = _int(request.match_info["item_id"])
    private = (await _form(request)).get("private", "")
    if item_id is None or private not in ("yes", "no"):
        raise web.HTTPNotFound()
    owner = _id(_me(request))

    def work() -> bool:
        with _db(request) as db:
            changed = keep_lesson_private(
                db, owner_id=owner, experiment_id=item_id, private=private == "yes"
            )
            db.commit()
            return changed is not None

    if not await context.in_thread(work):
        raise web.HTTPNotFound()
    return redirect(f"{HOME}?done=lesson#experiment-{item_id}")


@signed_in
async def settings(request: web.Request) -> web.StreamResponse:
    """Language, time zone and nudge rhythm: the same fields the chat's settings change."""
    form = await _form(request)
    me = _me(request)
    t = _words(request, me)
    problems = Problems(typed=form)
    language = form.get("language", "")
    if language not in LANGUAGES:
        problems.errors["language"] = t("web_pages.errors.language")
    zone = find_timezone(form.get("timezone", "").strip()) if form.get("timezone") else None
    if zone is None:
        problems.errors["timezone"] = t("preferences.timezone_unknown")
    rhythm = form.get("rhythm", "")
    if rhythm not in NUDGE_FREQUENCIES:
        problems.errors["rhythm"] = t("web_pages.errors.rhythm")
    if problems.errors:
        return await _render(request, problems)

    def work() -> None:
        with _db(request) as db:
            person = db.get(Person, me.id)
            if person is None:
                return
            set_preferences(
                db, person, language=language, timezone=str(zone), nudge_frequency=rhythm
            )
            db.commit()

    await context.in_thread(work)
    return redirect(f"{HOME}?done=settings#settings")


@signed_in
async def pause(request: web.Request) -> web.StreamResponse:
    """Pause nudges until a day in the future, or resume them now (as in chat)."""
    form = await _form(request)
    me = _me(request)
    today = context.now(request).astimezone(ZoneInfo(me.timezone)).date()
    until: date | None = None
    if form.get("action") != "resume":
        try:
            until = date.fromisoformat(form.get("until", "").strip())
        except ValueError:
            until = None
        if until is None or until <= today:
            t = _words(request, me)
            problems = Problems(typed=form, errors={"until": t("privacy.pause_in_past")})
            return await _render(request, problems)

    def work() -> None:
        with _db(request) as db:
            person = db.get(Person, me.id)
            if person is None:
                return
            pause_nudges(db, person, until)
            db.commit()

    await context.in_thread(work)
    return redirect(f"{HOME}?done={'paused' if until else 'resumed'}#settings")


@signed_in
async def download(request: web.Request) -> web.StreamResponse:
    """A one-time download link, used at once: the answer is the file."""
    purpose = DOWNLOADS.get(request.match_info["what"])
    if purpose is None:
        raise web.HTTPNotFound()
    me = _me(request)
    now = context.now(request)

    def work() -> str | None:
        with _db(request) as db:
            try:
                issued = links.issue(db, _id(me), purpose, now=now)
            except links.TooManyLinks:
                return None
            db.commit()
            return issued.token

    token = await context.in_thread(work)
    if token is None:
        t = _words(request, me)
        return await _render(request, Problems(errors={"download": t("web_pages.errors.links")}))
    # Pressed on their own signed-in page: the link is used at once (no second button).
    engine, content = context.engine(request), context.content(request)
    found = await context.in_thread(
        lambda: redeem_file(engine, token, now=now, content=content, via="web")
    )
    if found is None:  # used in between by whoever else held it: the page that says so
        return redirect(f"{DOWNLOAD_PREFIX}{token}")
    return file_response(found)


@signed_in
async def delete_everything(request: web.Request) -> web.StreamResponse:
    """Forget the person (the chat's own deletion) once they typed the confirmation word;
    then they are signed out (their sessions went with everything else)."""
    form = await _form(request)
    me = _me(request)
    t = _words(request, me)
    word = t("web_pages.delete.word")
    if form.get("confirm", "").strip().casefold() != word.casefold():
        problems = Problems(
            typed=form, errors={"confirm": t("web_pages.delete.mismatch", word=word)}
        )
        return await _render(request, problems)

    def work() -> None:
        with _db(request) as db:
            person = db.get(Person, me.id)
            if person is not None:
                forget_person(db, person, by="self")
            db.commit()

    await context.in_thread(work)
    # Gone: the page (still in their language) is for nobody signed in.
    response = aiohttp_jinja2.render_template(
        "pages/deleted.html", request, {"person": None, "csrf_token": ""}
    )
    response.headers["Cache-Control"] = "no-store"
    response.del_cookie(cookie_name(request), path="/")
    return response


def _words(request: web.Request, person: Person) -> Any:
    def t(key: str, **values: object) -> str:
        return context.content(request).text(person.language, key, **values)

    return t


def _int(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) < 12 else None

"""Campaign pages (hr): the list with each campaign's state and progress, the editor (new from
a template or a file, check, preview, launch: ``campaign_editor``), launches waiting for a
second person (approve or decline: ``dialogs.campaigns.guardrails``, as in chat and the CLI),
and pause, resume and cancel (``dialogs.campaigns.launch``). Every change is audited with the
person who made it (launches by the guardrails' history, the rest here)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web
from sqlmodel import Session

from bot.campaign_reports import Delivery, delivery
from bot.web import context
from bot.web.hr import campaign_editor as editor
from bot.web.hr.access import audited, hr_page, me, render, session
from bot.web.hr.campaign_preview import CHANNELS, Preview, for_choice
from bot.web.sessions import redirect
from bot.wiring import policy
from dialogs.campaigns import guardrails
from dialogs.campaigns.launch import CampaignError, cancel, pause, plan_launch, resume
from dialogs.campaigns.report import CampaignReport, build
from dialogs.campaigns.spec import from_stored
from storage import campaign_guardrails as guard
from storage import campaigns as stored
from storage.models import Campaign, CampaignLaunch, Person
from storage.privacy import Reader


@dataclass(frozen=True)
class Listed:
    campaign: Campaign
    report: CampaignReport
    delivery: Delivery


@dataclass(frozen=True)
class Waiting:
    record: CampaignLaunch
    name: str
    asked_by: str
    mine: bool


def _waiting(db: Session, reader: Person) -> list[Waiting]:
    found = []
    for record in guard.pending(db):
        spec = from_stored(record.spec)
        asker = db.get(Person, record.requested_by_id) if record.requested_by_id else None
        found.append(
            Waiting(
                record,
                spec.text(spec.name, reader.language),
                asker.name if asker else "-",
                record.requested_by_id == reader.id,
            )
        )
    return found


@hr_page
async def listing(request: web.Request) -> web.StreamResponse:
    reader = me(request)
    now = context.now(request)
    min_group = context.settings(request).min_group_size

    def work() -> tuple[list[Listed], list[Waiting]]:
        with session(request) as db:
            rows = []
            for c in stored.listing(db):
                assert c.id is not None
                report = build(db, c, min_group=min_group, now=now, lang=reader.language)
                rows.append(Listed(c, report, delivery(db, c.id, now=now)))
            return rows, _waiting(db, reader)

    rows, waiting = await context.in_thread(work)
    return render(
        request,
        "hr/campaigns.html",
        {
            "section": "campaigns",
            "rows": rows,
            "waiting": waiting,
            "templates": editor.templates(Path(context.settings(request).campaigns_dir)),
            "asked": request.query.get("waiting"),
        },
    )


def _editor(
    request: web.Request,
    checked: editor.Checked | None,
    text: str,
    *,
    shown: Preview | None = None,
    choice: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    return render(
        request,
        "hr/campaign_edit.html",
        {
            "section": "campaigns",
            "text": text,
            "fields": editor.common(text),
            "checked": checked,
            "preview": shown,
            "choice": choice or {"as": "", "lang": "", "channel": "teams"},
            "channels": CHANNELS,
        },
        status=status,
        scripts=True,
        images=True,
    )


@hr_page
async def new(request: web.Request) -> web.StreamResponse:
    folder = Path(context.settings(request).campaigns_dir)
    text = editor.template(request.query.get("template", "growth-week"), folder)
    if text is None:
        raise web.HTTPNotFound()
    return _editor(request, None, text)


@hr_page
async def upload(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    file = form.get("file")
    text = ""
    if isinstance(file, web.FileField):
        data = file.file.read(editor.MAX_FILE + 1)
        text = data.decode("utf-8-sig", errors="replace")
    if not text.strip():
        return _editor(request, editor.Checked("", [editor.Problem("", "no file")]), "", status=400)
    return await _checked_editor(request, text.replace("\r\n", "\n"), {})


def _form_text(form: Any) -> tuple[str, dict[str, str]]:
    raw = form.get("yaml", "")
    text = raw.replace("\r\n", "\n") if isinstance(raw, str) else ""
    fields = {k: str(form.get(k, "")) for k in editor.FIELDS if isinstance(form.get(k), str)}
    return editor.with_fields(text, fields), {
        k: str(form.get(k, "")) for k in ("as", "lang", "channel", "fingerprint", "action")
    }


def timing_words(request: web.Request) -> dict[str, Any]:
    """The timing notes of a check are read by the author: in their language."""
    return {"content": context.content(request), "lang": context.language(request)}


async def _checked_editor(
    request: web.Request, text: str, choice: dict[str, str]
) -> web.StreamResponse:
    author = me(request)
    now = context.now(request)
    settings = context.settings(request)
    said = timing_words(request)
    content = context.content(request)
    wants_preview = choice.get("action") == "preview"

    def work() -> tuple[editor.Checked, Preview | None]:
        with session(request) as db:
            checked = editor.check(db, settings, text, author, now=now, **said)
            if not wants_preview or not checked.ok or checked.spec is None:
                return checked, None
            recipients = checked.plan.recipients if checked.plan is not None else []
            shown = for_choice(db, content, settings, checked.spec, recipients, choice)
            return checked, shown

    checked, shown = await context.in_thread(work)
    if shown is not None:
        choice = choice | {"as": shown.person.email, "channel": shown.channel}
    return _editor(
        request, checked, text, shown=shown, choice=choice, status=200 if checked.ok else 422
    )


@hr_page
async def edit(request: web.Request) -> web.StreamResponse:
    """The editor's form: check, preview or launch (the button pressed is ``action``)."""
    form = await request.post()
    text, choice = _form_text(form)
    if choice.get("action") == "launch":
        return await _launch(request, text, choice.get("fingerprint", ""))
    return await _checked_editor(request, text, choice)


@hr_page
async def check_json(request: web.Request) -> web.StreamResponse:
    """The editor's live check (its script posts the form as you type): problems with their
    path and line, audience, timing warnings and whether a second person must approve."""
    form = await request.post()
    text, _ = _form_text(form)
    author = me(request)
    now = context.now(request)
    settings = context.settings(request)
    said = timing_words(request)

    def work() -> editor.Checked:
        with session(request) as db:
            return editor.check(db, settings, text, author, now=now, **said)

    checked = await context.in_thread(work)
    body = checked.as_json() | {"yaml": text}
    return web.json_response(body, headers={"Cache-Control": "no-store"}, dumps=json.dumps)


async def _launch(request: web.Request, text: str, fingerprint: str) -> web.StreamResponse:
    author = me(request)
    now = context.now(request)
    settings = context.settings(request)
    said = timing_words(request)
    content = context.content(request)

    def work() -> tuple[editor.Checked, str]:
        with session(request) as db:
            checked = editor.check(db, settings, text, author, now=now, **said)
            if not checked.ok or checked.plan is None or checked.spec is None:
                return checked, ""
            if checked.spec.hash != fingerprint:
                checked.problems = [editor.Problem("", "changed")]
                return checked, ""
            if checked.plan.unchanged:
                checked.problems = [editor.Problem("", "unchanged")]
                return checked, ""
            try:
                done = guardrails.submit(
                    db,
                    content,
                    checked.plan,
                    author=author,
                    actor=Reader.of(author),
                    now=now,
                    policy=policy(settings),
                    approval_over=settings.campaign_approval_over,
                )
            except CampaignError as error:
                db.rollback()
                checked.problems = [editor.Problem("", str(error))]
                return checked, ""
            db.commit()
            if done.waiting:
                return checked, f"/app/hr/campaigns?waiting={done.record.id}"
            assert done.campaign is not None
            return checked, f"/app/hr/campaigns/{done.campaign.id}"

    checked, target = await context.in_thread(work)
    if target:
        return redirect(target)
    return _editor(request, checked, text, status=409 if checked.ok or checked.spec else 422)


def _number(request: web.Request, name: str) -> int:
    raw = request.match_info[name]
    return int(raw) if raw.isdigit() and len(raw) < 12 else 0


@hr_page
async def approval(request: web.Request) -> web.StreamResponse:
    """A launch waiting for a second person: who asked, the audience, why, the stored file,
    and its preview (the editor's: ``?as=&lang=&channel=``) for the approver to look at."""
    reader = me(request)
    launch_id = _number(request, "launch_id")
    now = context.now(request)
    settings = context.settings(request)
    content = context.content(request)
    choice = {k: request.query.get(k, "") for k in ("as", "lang", "channel")}
    choice["channel"] = choice["channel"] if choice["channel"] in CHANNELS else "teams"

    def work() -> dict[str, Any] | None:
        with session(request) as db:
            record = db.get(CampaignLaunch, launch_id)
            if record is None:
                return None
            spec = from_stored(record.spec)
            asker = db.get(Person, record.requested_by_id) if record.requested_by_id else None
            try:
                recipients = plan_launch(db, spec, now=now).recipients
            except CampaignError:  # e.g. launched meanwhile: the file and figures still show
                recipients = []
            return {
                "record": record,
                "name": spec.text(spec.name, reader.language),
                "asked_by": asker.name if asker else "-",
                "mine": record.requested_by_id == reader.id,
                "yaml": yaml.safe_dump(record.spec, sort_keys=False, allow_unicode=True),
                "why": guardrails.why_text(content, reader.language, record.reasons),
                "preview": for_choice(db, content, settings, spec, recipients, choice),
            }

    found = await context.in_thread(work)
    if found is None:
        raise web.HTTPNotFound()
    shown: Preview | None = found["preview"]
    if shown is not None:
        choice |= {"as": shown.person.email, "channel": shown.channel}
    return render(
        request,
        "hr/approval.html",
        found
        | {
            "section": "campaigns",
            "problem": request.query.get("problem", ""),
            "choice": choice,
            "channels": CHANNELS,
        },
        scripts=True,
        images=True,
    )


@hr_page
async def decide(request: web.Request) -> web.StreamResponse:
    reader = me(request)
    launch_id = _number(request, "launch_id")
    form = await request.post()
    approve = form.get("decision") == "approve"
    now = context.now(request)
    settings = context.settings(request)
    content = context.content(request)

    def work() -> tuple[str, str]:
        with session(request) as db:
            try:
                if approve:
                    done = guardrails.approve(
                        db,
                        content,
                        launch_id,
                        approver=reader,
                        actor=Reader.of(reader),
                        now=now,
                        policy=policy(settings),
                    )
                    db.commit()
                    assert done.campaign is not None
                    return f"/app/hr/campaigns/{done.campaign.id}", ""
                guardrails.decline(
                    db, content, launch_id, by=reader, actor=Reader.of(reader), now=now
                )
                db.commit()
                return "/app/hr/campaigns", ""
            except CampaignError as error:
                db.rollback()
                return "", str(error)

    target, problem = await context.in_thread(work)
    if target:
        return redirect(target)
    return render(
        request,
        "hr/problem.html",
        {"section": "campaigns", "problem": problem, "back": f"/app/hr/approvals/{launch_id}"},
        status=409,
    )


async def _act(request: web.Request, what: str) -> web.StreamResponse:
    actor = me(request)
    campaign_id = _number(request, "campaign_id")
    now = context.now(request)
    settings = context.settings(request)

    def work() -> str | None:
        with session(request) as db:
            campaign = db.get(Campaign, campaign_id)
            if campaign is None:
                return None
            try:
                if what == "pause":
                    n = pause(db, campaign, now=now)
                elif what == "resume":
                    n = resume(db, campaign, now=now, policy=policy(settings))
                else:
                    n = cancel(db, campaign, now=now)
            except CampaignError as error:
                db.rollback()
                return str(error)
            audited(db, actor, f"campaign_{what}", at=now, campaign=campaign.slug, messages=n)
            db.commit()
            return ""

    problem = await context.in_thread(work)
    if problem is None:
        raise web.HTTPNotFound()
    if problem:
        back = f"/app/hr/campaigns/{campaign_id}"
        return render(
            request,
            "hr/problem.html",
            {"section": "campaigns", "problem": problem, "back": back},
            status=409,
        )
    return redirect(f"/app/hr/campaigns/{campaign_id}")


@hr_page
async def pause_campaign(request: web.Request) -> web.StreamResponse:
    return await _act(request, "pause")


@hr_page
async def resume_campaign(request: web.Request) -> web.StreamResponse:
    return await _act(request, "resume")


@hr_page
async def cancel_campaign(request: web.Request) -> web.StreamResponse:
    return await _act(request, "cancel")

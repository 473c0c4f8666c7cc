"""``GET /calendar/{token}``: a workshop's calendar file (``text/calendar``, RFC 5545), for the
person a confirmation of their place gave the link to. What the link may do — be fetched more
than once (calendar apps and link previews fetch twice), until the workshop ends — is its
purpose's rule in ``storage/links.py``; this route only builds the file
(``dialogs/campaigns/ics.py``). The console writes the same file to disk
(``bot/channels/console_files.py``)."""

from __future__ import annotations

from datetime import datetime

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.web import context
from bot.web.download import FILE_CSP
from bot.web.export_files import ExportFile, language_of_link
from bot.web.templating import Words
from dialogs.campaigns import ics
from dialogs.campaigns.messages import language_of
from dialogs.campaigns.spec import from_stored
from storage import links
from storage.models import Campaign, LinkPurpose, Person


def calendar_file(engine: Engine, token: str, *, now: datetime) -> ExportFile | None:
    """The workshop's ``.ics`` in the person's language; None: no such usable link, or its
    campaign or workshop is gone."""
    with Session(engine) as db:
        used = links.redeem(db, token, [LinkPurpose.CALENDAR], now=now)
        if used is None or used.subject is None:
            return None
        campaign_id, _, workshop_id = used.subject.partition(":")
        campaign = db.get(Campaign, int(campaign_id)) if campaign_id.isdigit() else None
        person = db.get(Person, used.person_id)
        spec = from_stored(campaign.spec) if campaign is not None else None
        workshop = spec.workshop(workshop_id) if spec is not None else None
        if campaign is None or person is None or spec is None or workshop is None:
            db.rollback()
            return None
        body = ics.event(
            spec, workshop, lang=language_of(spec, person), stamp=now, sequence=campaign.version
        )
        db.commit()
    return ExportFile(f"{spec.id}-{workshop.id}.ics", "text/calendar; charset=utf-8", body.encode())


async def calendar(request: web.Request) -> web.StreamResponse:
    token = request.match_info["token"]
    engine, now = context.engine(request), context.now(request)
    found = await context.in_thread(lambda: calendar_file(engine, token, now=now))
    if found is None:
        default = context.settings(request).language
        language = await context.in_thread(lambda: language_of_link(engine, token, default))
        words = Words(context.content(request), language, context.settings(request).timezone)
        response = aiohttp_jinja2.render_template(
            "sign_in.html", request, {"problem": "download"} | words.context(), status=410
        )
        response.headers["Cache-Control"] = "no-store"
        return response
    return web.Response(
        body=found.body,
        headers={
            "Content-Type": found.content_type,
            "Content-Disposition": f'attachment; filename="{found.filename}"',
            "Cache-Control": "no-store",
            "Content-Security-Policy": FILE_CSP,
        },
    )

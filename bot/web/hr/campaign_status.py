"""One campaign's page (hr): its state and delivery while it sends, updated live (Server-Sent
Events from :func:`events`, drawn by our own ``hr/status.js``; without scripts the page shows
the same figures and a reload updates them), then its report — the figures of ``regie
campaign report`` (``dialogs.campaigns.report.build``, the bars of ``bot.campaign_reports``)
with counts under K shown as ``<K``, and, for the campaign's owner only, who signed up for
which workshop by name (``report.sign_ups``: each look is audited)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict
from typing import Any

from aiohttp import web
from sqlmodel import select

from bot.campaign_reports import (
    FUNNEL,
    STEP_FIGURES,
    WORKSHOP_FIGURES,
    Delivery,
    delivery,
    funnel,
    step_figures,
    step_rows,
    wording,
    workshop_bars,
)
from bot.web import context
from bot.web.hr.access import hr_page, me, render, session
from dialogs.campaigns.report import build, sign_ups
from dialogs.engine.metrics import metrics
from storage.models import Campaign, CampaignState, RsvpState

POLL_SECONDS = 1.0
"""How often the live status looks at the outbox (the campaign's state, and one grouped query
counted from the outbox's campaign index: under 10 ms for a 10,000-person campaign)."""
STREAM_FOR = 600.0
"""A stream ends after this long; the browser's EventSource opens a new one by itself."""


def _number(request: web.Request) -> int:
    raw = request.match_info["campaign_id"]
    return int(raw) if raw.isdigit() and len(raw) < 12 else 0


def live(request: web.Request, current: Delivery, state: str) -> dict[str, Any]:
    """What the live status shows: the counts, and the line that says them in words."""
    content, lang = context.content(request), context.language(request)
    line = content.text(
        lang,
        "web_hr.status.line",
        count=current.due,
        sent=content.number(lang, current.sent),
    )
    if not current.going and current.later:
        line += " " + content.text(lang, "web_hr.status.later", count=current.later)
    return asdict(current) | {
        "due": current.due,
        "going": current.going,
        "state": state,
        "line": line,
        "percent": round(100 * current.sent / current.due, 1) if current.due else 0.0,
        "retry_at": None,
        "next_at": None,
    }


@hr_page
async def page(request: web.Request) -> web.StreamResponse:
    reader = me(request)
    campaign_id = _number(request)
    now = context.now(request)
    min_group = context.settings(request).min_group_size

    def work() -> dict[str, Any] | None:
        with session(request) as db:
            campaign = db.get(Campaign, campaign_id)
            if campaign is None:
                return None
            report = build(
                db, campaign, min_group=min_group, now=now, reader=reader, lang=reader.language
            )
            names = sign_ups(db, campaign, reader, now=now)
            current = delivery(db, campaign_id, now=now)
            db.commit()  # the audit entries of the sign-up lists' look
            return {"campaign": campaign, "report": report, "names": names, "current": current}

    found = await context.in_thread(work)
    if found is None:
        raise web.HTTPNotFound()
    report = found["report"]
    spec = report.spec
    words = wording(report)
    names = found["names"]
    return render(
        request,
        "hr/campaign.html",
        {
            "section": "campaigns",
            "campaign": found["campaign"],
            "title": spec.text(spec.name, report.lang),
            "state": words.state(report.state),
            "raw_state": str(found["campaign"].state),
            "live": live(request, found["current"], report.state),
            "funnel": [bar for _, _, bar in funnel(report)],
            "workshops": workshop_bars(report),
            "step_columns": [words.metric(key) for key in step_figures(report, STEP_FIGURES)],
            "steps": list(step_rows(report)),
            "failures": [(n, reason) for reason, n in report.figures.failure_reasons.most_common()],
            "skips": list(report.figures.skip_reason_cells()),
            "named": [
                (spec.text(w.title, report.lang), names.get(w.id, [])) for w in spec.workshops
            ]
            if names is not None
            else None,
            "going": RsvpState.GOING,
            "definitions": metrics(
                words.content,
                report.lang,
                "campaign",
                [
                    *FUNNEL,
                    *step_figures(report, STEP_FIGURES),
                    *(WORKSHOP_FIGURES if spec.workshops else ()),
                ],
            ),
            "k": report.figures.k,
            "running": found["campaign"].state == CampaignState.RUNNING,
            "paused": found["campaign"].state == CampaignState.PAUSED,
        },
        scripts=True,
    )


def _connected(request: web.Request) -> bool:
    """Whether the browser is still there: a closed tab ends its stream (and its polling) at
    once, not after :data:`STREAM_FOR` (aiohttp does not cancel a handler when its client
    goes away)."""
    transport = request.transport
    return transport is not None and not transport.is_closing()


@hr_page
async def events(request: web.Request) -> web.StreamResponse:
    """``text/event-stream``: an event with the live status now, then one each time it
    changes, until the browser goes away (or :data:`STREAM_FOR` has passed)."""
    campaign_id = _number(request)

    def work() -> tuple[Delivery, str] | None:
        with session(request) as db:
            state = db.exec(select(Campaign.state).where(Campaign.id == campaign_id)).first()
            if state is None:
                return None
            return delivery(db, campaign_id, now=context.now(request)), str(state)

    first = await context.in_thread(work)
    if first is None:
        raise web.HTTPNotFound()
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    last: dict[str, Any] | None = None
    loop = asyncio.get_running_loop()
    ends = loop.time() + STREAM_FOR
    current: tuple[Delivery, str] | None = first
    while current is not None and loop.time() < ends and _connected(request):
        shown = live(request, *current)
        if shown != last:
            try:
                await response.write(f"data: {json.dumps(shown)}\n\n".encode())
            except ConnectionResetError:  # the browser went away
                return response
            last = shown
        await asyncio.sleep(POLL_SECONDS)
        current = await context.in_thread(work)
    return response

"""Campaigns in the browser's HTTP (both databases): preview a Teams card for a Dutch
recipient, launch (over the approval limit: it waits), a second hr person approves, the
status page and its live events, pause and resume audited, sign-ups by name only for the
owner, and no free text."""

from __future__ import annotations

import asyncio
import html
import json
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.web.hr.campaign_editor import template, templates
from storage.models import AuditEntry, Campaign, CampaignLaunch, CampaignState, LaunchState
from tests.web.hr_world import CAMPAIGNS, SENTINEL, csrf, make_hr_world
from tests.web.web_client import sign_in, web_client, web_settings


def test_preview_launch_approve_status_and_pause(engine: Engine) -> None:
    async def scenario() -> None:
        settings = web_settings(campaign_approval_over=3)
        async with web_client(engine, settings=settings) as (client, clock):
            world = make_hr_world(engine, clock)
            await sign_in(client, engine, world.priya, clock)
            page = await (await client.get("/app/hr/campaigns/new?template=growth-week")).text()
            token = csrf(page)
            text = template("growth-week", CAMPAIGNS)
            assert text is not None
            form: dict[str, Any] = {
                "csrf_token": token,
                "yaml": text,
                "action": "preview",
                "as": "ann@example.com",
                "lang": "nl",
                "channel": "teams",
            }
            preview = await client.post("/app/hr/campaigns/edit", data=form)
            body = await preview.text()
            assert preview.status == 200, body
            assert "script-src 'self'" in preview.headers["Content-Security-Policy"]
            cards = [html.unescape(part.split('"')[0]) for part in body.split('data-card="')[1:]]
            assert cards, "no Teams card in the preview"
            card = json.loads(cards[0])
            assert card["type"] == "AdaptiveCard"
            assert "Ann" in json.dumps(card, ensure_ascii=False)
            assert "What Ann de Vries gets (nl, Teams)" in body
            assert SENTINEL not in body
            fingerprint = body.split('name="fingerprint" value="')[1].split('"')[0]
            stale = await client.post(
                "/app/hr/campaigns/edit",
                data=form | {"action": "launch", "fingerprint": "0" * 64},
            )
            assert stale.status == 409 and "changed since you checked" in await stale.text()
            launched = await client.post(
                "/app/hr/campaigns/edit",
                data=form | {"action": "launch", "fingerprint": fingerprint},
                allow_redirects=False,
            )
            assert launched.status == 303, await launched.text()
            assert "/app/hr/campaigns?waiting=" in launched.headers["Location"]
            with Session(engine) as db:
                record = db.exec(select(CampaignLaunch)).one()
                assert record.state == LaunchState.PENDING and record.reasons == ["size"]
                assert db.exec(select(Campaign)).first() is None
            mine = await (await client.get(f"/app/hr/approvals/{record.id}")).text()
            assert "You asked for this launch yourself" in mine

            await sign_in(client, engine, world.henk, clock)
            approval = await (await client.get(f"/app/hr/approvals/{record.id}")).text()
            assert "Goedkeuren en starten" in approval
            approved = await client.post(
                f"/app/hr/approvals/{record.id}",
                data={"csrf_token": csrf(approval), "decision": "approve"},
                allow_redirects=False,
            )
            assert approved.status == 303, await approved.text()
            with Session(engine) as db:
                campaign = db.exec(select(Campaign)).one()
                assert campaign.owner_id == world.priya.id
            status = await (await client.get(approved.headers["Location"])).text()
            assert "Groeiweek 2026" in status and 'id="live-status"' in status
            assert 'id="sign-ups"' not in status  # Henk is not the owner
            events = await client.get(f"/app/hr/campaigns/{campaign.id}/events")
            assert events.headers["Content-Type"] == "text/event-stream"
            first = await events.content.readuntil(b"\n\n")
            live = json.loads(first.decode().removeprefix("data: "))
            assert live["state"] == "running" and "line" in live
            events.close()
            paused = await client.post(
                f"/app/hr/campaigns/{campaign.id}/pause",
                data={"csrf_token": csrf(status)},
                allow_redirects=False,
            )
            assert paused.status == 303
            with Session(engine) as db:
                assert db.get(Campaign, campaign.id).state == CampaignState.PAUSED  # type: ignore[union-attr]
                entry = db.exec(
                    select(AuditEntry).where(AuditEntry.action == "campaign_pause")
                ).one()
                assert entry.actor_id == world.henk.id

            await sign_in(client, engine, world.priya, clock)
            owner_view = await (await client.get(f"/app/hr/campaigns/{campaign.id}")).text()
            assert 'id="sign-ups"' in owner_view
            listing = await (await client.get("/app/hr/campaigns")).text()
            assert "Growth Week 2026" in listing and "Paused" in listing

    asyncio.run(scenario())


def test_templates_are_the_example_files_in_the_deployments_campaign_folder(
    tmp_path: Path,
) -> None:
    assert templates(tmp_path) == []
    assert template("growth-week", tmp_path) is None
    (tmp_path / "growth-week.yaml").write_text(
        (CAMPAIGNS / "growth-week.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    assert templates(tmp_path) == ["growth-week"]
    assert template("growth-week", tmp_path) == (CAMPAIGNS / "growth-week.yaml").read_text(
        encoding="utf-8"
    )
    assert template("no-such-template", CAMPAIGNS) is None
    assert templates(CAMPAIGNS) == ["growth-week", "onboarding", "pulse"]

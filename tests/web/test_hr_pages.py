"""The HR and admin pages through HTTP (the real app, both databases): health, people
(dry run, import, one person's roles and scope), participation (and its CSV), and the
campaign editor's check; each change audited with its actor, and no person's free text on any
of these pages."""

from __future__ import annotations

import asyncio
import html
import io
from typing import Any

from aiohttp import FormData
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.web.hr.campaign_editor import template
from storage import campaign_guardrails as guard
from storage.models import AuditEntry, Outbound, OutboxState, Person, Role
from storage.scheduler_runs import record_run
from tests.web.hr_world import CAMPAIGNS, SENTINEL, csrf, make_hr_world
from tests.web.web_client import sign_in, web_client


def run(scenario: Any) -> None:
    asyncio.run(scenario())


def test_health_shows_the_outbox_and_retries_dead_letters_audited(engine: Engine) -> None:
    async def scenario() -> None:
        async with web_client(engine) as (client, clock):
            world = make_hr_world(engine, clock)
            with Session(engine) as db:
                db.add(
                    Outbound(
                        idempotency_key="k1",
                        person_id=world.ann.id or 0,
                        kind="nudge",
                        not_before=clock.now,
                        state=OutboxState.DEAD,
                        last_error="slack: account_inactive",
                        payload=[{"type": "say", "text": "x"}],
                    )
                )
                db.commit()
            await sign_in(client, engine, world.ada, clock)
            page = await (await client.get("/app/admin/health")).text()
            assert "It hasn't run yet" in html.unescape(page)
            with Session(engine) as db:  # the scheduler runs in another replica
                record_run(db, "run-due", at=clock.now, error=None, host="regie-2 (pid 41)")
                db.commit()
            page = await (await client.get("/app/admin/health")).text()
            assert "Ran on regie-2 (pid 41)." in page and "fine." in page
            assert "Next run around" in page
            assert "slack: account_inactive" in page
            assert "Send them again" in page
            assert SENTINEL not in page
            response = await client.post(
                "/app/admin/health/retry", data={"csrf_token": csrf(page)}, allow_redirects=False
            )
            assert response.status == 303
            assert "retried=1" in response.headers["Location"]
            with Session(engine) as db:
                row = db.exec(select(Outbound)).one()
                assert row.state == OutboxState.PENDING
                entry = db.exec(
                    select(AuditEntry).where(AuditEntry.action == "outbox_retry_dead")
                ).one()
                assert entry.actor_id == world.ada.id
            audit = await (await client.get("/app/admin/health?action=outbox_retry_dead")).text()
            assert "outbox_retry_dead" in audit and "ada@example.com" in audit
            filtered = await (await client.get("/app/admin/health?actor=nobody@x")).text()
            assert "Nothing matches." in filtered

    run(scenario)


GOOD = (
    "email,name,manager_email,department,role\n"
    "new@example.com,New Person,mia@example.com,Sales,employee\n"
    "ann@example.com,Ann de Vries,mia@example.com,Support,employee\n"
)
BAD = GOOD + "bad-address,Someone,,Sales,employee\n"


async def _upload(client: Any, token: str, text: str) -> Any:
    form = FormData()
    form.add_field("csrf_token", token)
    form.add_field(
        "file", io.BytesIO(text.encode()), filename="people.csv", content_type="text/csv"
    )
    return await client.post("/app/admin/people/check", data=form)


def test_people_import_dry_run_then_all_or_nothing(engine: Engine) -> None:
    async def scenario() -> None:
        async with web_client(engine) as (client, clock):
            world = make_hr_world(engine, clock)
            await sign_in(client, engine, world.ada, clock)
            page = await (await client.get("/app/admin/people")).text()
            token = csrf(page)
            refused = await _upload(client, token, BAD)
            body = await refused.text()
            assert refused.status == 422
            assert "Line 4 (bad-address)" in body and "Nothing imported" in body
            checked = await _upload(client, token, GOOD)
            body = await checked.text()
            assert checked.status == 200
            assert "new@example.com" in body and "department: Sales → Support" in body
            with Session(engine) as db:  # a dry run changes nothing
                assert (
                    db.exec(select(Person).where(Person.email == "new@example.com")).first() is None
                )
            fingerprint = body.split('name="fingerprint" value="')[1].split('"')[0]
            done = await client.post(
                "/app/admin/people/import",
                data={
                    "csrf_token": token,
                    "csv": GOOD.replace("\n", "\r\n"),
                    "fingerprint": fingerprint,
                },
                allow_redirects=False,
            )
            assert done.status == 303, await done.text()
            assert "imported=1&updated=1" in done.headers["Location"]
            with Session(engine) as db:
                assert db.exec(select(Person).where(Person.email == "new@example.com")).one()
                entry = db.exec(
                    select(AuditEntry).where(AuditEntry.action == "people_import")
                ).one()
                assert entry.actor_id == world.ada.id and entry.detail["created"] == 1
            found = await (await client.get("/app/admin/people?q=new@")).text()
            assert "New Person" in found and "Staff 1" not in found

    run(scenario)


def test_person_role_manager_and_scope_are_set_and_audited(engine: Engine) -> None:
    async def scenario() -> None:
        async with web_client(engine) as (client, clock):
            world = make_hr_world(engine, clock)
            await sign_in(client, engine, world.ada, clock)
            url = f"/app/admin/people/{world.henk.id}"
            token = csrf(await (await client.get(url)).text())
            cycle = await client.post(
                url,
                data={
                    "csrf_token": token,
                    "role": "hr",
                    "manager_email": "henk@example.com",
                    "buddy_email": "",
                    "scope": "",
                },
            )
            assert cycle.status == 422
            assert "is their own manager" in await cycle.text()
            saved = await client.post(
                url,
                data={
                    "csrf_token": token,
                    "role": "hr",
                    "manager_email": "mia@example.com",
                    "buddy_email": "ann@example.com",
                    "scope": "department:Sales",
                },
                allow_redirects=False,
            )
            assert saved.status == 303
            with Session(engine) as db:
                henk = db.get(Person, world.henk.id)
                assert henk is not None and henk.manager_id == world.mia.id
                assert henk.buddy_id == world.ann.id and henk.role == Role.HR
                assert str(guard.scope_of(db, henk.id or 0)) == "department:Sales"
                actions = {e.action: e for e in db.exec(select(AuditEntry))}
                assert actions["person_updated"].actor_id == world.ada.id
                assert actions["person_updated"].detail["fields"] == [
                    "buddy_email",
                    "manager_email",
                ]
                assert actions["campaign_author_set"].actor_id == world.ada.id

    run(scenario)


def test_participation_counts_only_with_csv_and_definitions(engine: Engine) -> None:
    async def scenario() -> None:
        async with web_client(engine) as (client, clock):
            world = make_hr_world(engine, clock)
            await sign_in(client, engine, world.priya, clock)
            page = await (await client.get("/app/hr/participation")).text()
            assert "Participation" in page and "&lt;5" in page
            assert SENTINEL not in page
            assert "What the figures mean" in page or '<dl class="definitions">' in page
            response = await client.get("/app/hr/participation.csv?department=Sales")
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/csv")
            text = await response.text()
            assert SENTINEL not in text and "people" in text
            with Session(engine) as db:
                entries = db.exec(select(AuditEntry).where(AuditEntry.action == "hr_report")).all()
                assert {e.actor_id for e in entries} == {world.priya.id}

    run(scenario)


def test_campaign_editor_checks_with_paths_and_lines(engine: Engine) -> None:
    async def scenario() -> None:
        async with web_client(engine) as (client, clock):
            world = make_hr_world(engine, clock)
            await sign_in(client, engine, world.priya, clock)
            page = await (await client.get("/app/hr/campaigns/new?template=growth-week")).text()
            assert "growth-week-2026" in page
            assert (
                "script-src 'self'"
                in (await client.get("/app/hr/campaigns/new?template=growth-week")).headers[
                    "Content-Security-Policy"
                ]
            )
            text = template("growth-week", CAMPAIGNS)
            assert text is not None
            broken = text.replace("capacity: 24", "capacity: lots")
            token = csrf(page)
            response = await client.post(
                "/app/hr/campaigns/check.json",
                data={"yaml": broken},
                headers={"X-CSRF-Token": token},
            )
            answer = await response.json()
            assert not answer["ok"]
            assert answer["problems"][0]["path"] == "workshops[0].capacity"
            assert answer["problems"][0]["line"] is not None
            good = await (
                await client.post(
                    "/app/hr/campaigns/check.json",
                    data={"yaml": text},
                    headers={"X-CSRF-Token": token},
                )
            ).json()
            assert good["ok"] and good["audience"] == len(world.staff) + 5
            assert good["needs_approval"] == []
            # The form's fields are written into the file as it stands: comments kept.
            edited = await (
                await client.post(
                    "/app/hr/campaigns/check.json",
                    data={"yaml": text, "name_en": "Growth week 2027", "departments": "HR"},
                    headers={"X-CSRF-Token": token},
                )
            ).json()
            kept = [line for line in text.splitlines() if line.lstrip().startswith("#")]
            assert kept and all(line in edited["yaml"].splitlines() for line in kept)
            assert 'en: "Growth week 2027"' in edited["yaml"]
            assert "audience: {departments: [HR]}" in edited["yaml"]
            changed = [
                (a, b)
                for a, b in zip(text.splitlines(), edited["yaml"].splitlines(), strict=True)
                if a != b
            ]
            assert len(changed) == 2, changed  # the name and the audience, nothing else

    run(scenario)

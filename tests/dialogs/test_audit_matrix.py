"""Who has seen my data, from the employee's side: every way someone else can read it — their
manager (a delivered digest, "my team" in chat), the campaign's owner (workshop sign-ups),
an administrator at the command line (export, a printed digest, sign-ups for the owner) — is
there with who really read it; HR's counts and a digest that was only queued are not."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config import Settings
from bot.jobs import enqueue_due
from dialogs.campaigns.launch import launch, plan_launch
from dialogs.campaigns.report import sign_ups
from dialogs.campaigns.spec import parse
from dialogs.engine.calendar import NudgePolicy
from dialogs.engine.content import load_content
from dialogs.engine.runtime import Runtime
from dialogs.nudges.digest import compose
from dialogs.registry import DIALOGS
from storage.models import Campaign, Experiment, Person, Role
from storage.personal_data import export_person
from storage.privacy import Reader, readings
from storage.reports import participation
from storage.workshop_places import sign_up
from tests.dialogs.transcript import Transcript
from tests.privacy_world import RecordingSender, deliver

CONTENT = load_content()
SLOT = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
WEEK = """\
id: matrix
name: Growth week
owner: hr@example.com
start: 2026-12-07
workshops:
  - {id: energy, title: Energy, starts: "2026-12-08T14:00+01:00", minutes: 60}
steps:
  - {id: kickoff, day: 0, message: "Hi {first_name}", rsvp: [energy]}
"""


def test_every_read_is_seen_by_the_employee_with_who_really_read_it(
    engine: Engine, db_url: str
) -> None:
    with Session(engine) as db:
        bea = Person(email="bea@example.com", name="Bea Baas", slack_user_id="U1", welcomed_at=SLOT)
        hr = Person(email="hr@example.com", name="Hanna Hr", role=Role.HR)
        db.add_all([bea, hr])
        db.flush()
        ann = Person(
            email="ann@example.com",
            name="Ann",
            manager_id=bea.id,
            welcomed_at=SLOT - timedelta(days=90),
        )
        db.add(ann)
        db.flush()
        recent = SLOT - timedelta(days=1)
        db.add(
            Experiment(
                person_id=ann.id,
                title="Shared thing",
                visibility="manager",
                created_at=recent,
                updated_at=recent,
            )
        )
        campaign = launch(
            db,
            CONTENT,
            plan_launch(db, parse(WEEK), now=SLOT - timedelta(hours=3)),
            owner=hr,
            now=SLOT - timedelta(hours=3),
            policy=NudgePolicy(),
        )
        assert campaign.id and ann.id and bea.id and hr.id
        sign_up(db, campaign.id, "energy", ann.id, capacity=None, now=SLOT)
        db.commit()
        ids = {"ann": ann.id, "bea": bea.id, "hr": hr.id, "campaign": campaign.id}

    # (calm off: the campaign step and the digest both go this morning, for this test only)
    settings = Settings(_env_file=None, database_url=db_url, calm=False)  # type: ignore[call-arg]
    enqueue_due(settings, SLOT)  # queued: not a read
    with Session(engine) as db:
        assert readings(db, ids["ann"]) == []
    deliver(engine, [RecordingSender(reaches=lambda p: p.slack_user_id is not None)], SLOT)
    at = {"chat": SLOT + timedelta(hours=1), "owner": SLOT + timedelta(hours=2)}
    with Session(engine) as db:  # something new since the digest, for "my team" to show
        db.add(
            Experiment(
                person_id=ids["ann"],
                title="Newer thing",
                visibility="manager",
                created_at=SLOT + timedelta(minutes=30),
                updated_at=SLOT + timedelta(minutes=30),
            )
        )
        db.commit()
    Transcript(
        Runtime(engine, dialogs=DIALOGS, content=CONTENT, clock=lambda: at["chat"]), ids["bea"]
    ).send("my team")
    with Session(engine, expire_on_commit=False) as db:
        hr_person, bea_person, ann_person = (db.get(Person, ids[k]) for k in ("hr", "bea", "ann"))
        assert hr_person and bea_person and ann_person
        participation(
            db, start=date(2026, 1, 1), end=date(2026, 12, 31), min_group=3, reader_id=ids["hr"]
        )
        campaign_row = db.get(Campaign, ids["campaign"])
        assert campaign_row is not None
        sign_ups(db, campaign_row, hr_person, now=at["owner"])
        sign_ups(
            db, campaign_row, hr_person, now=at["owner"] + timedelta(minutes=1), operator="ops"
        )
        export_person(
            db,
            ann_person,
            reader=Reader.administrator("ops"),
            now=at["owner"] + timedelta(minutes=2),
        )
        compose(
            db,
            CONTENT,
            bea_person,
            now=at["owner"] + timedelta(minutes=3),
            min_group=5,
            since=SLOT - timedelta(days=30),
            reader=Reader.administrator("ops"),
        )
        db.commit()
        seen = [
            (r.what, r.reader.name if r.reader else None, r.operator)
            for r in readings(db, ids["ann"])
        ]
    assert seen == [
        ("digest", None, "ops"),  # regie digest --print
        ("export", None, "ops"),  # regie export
        ("sign_ups", None, "ops"),  # regie campaign report --as the owner
        ("sign_ups", "Hanna Hr", None),  # the owner in chat
        ("digest", "Bea Baas", None),  # "my team" in chat
        ("digest", "Bea Baas", None),  # the delivered digest
    ]

"""``forget`` means gone: a person writes unique markers into every kind of item, shares some,
has a conversation open, is in a campaign (pressed a button, took a workshop place), gets
nudges and campaign messages in the console, appears in their manager's digest (queued,
delivered, and queued again), is exported by an administrator — then is forgotten. Afterwards
nothing of theirs is anywhere in the database: the SQLite file's bytes (and its write-ahead
log), or every row of every table on PostgreSQL. What remains is one audit line that a
deletion happened; a colleague's data is untouched."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.config import Settings
from bot.delivery import console_inbox
from bot.jobs import enqueue_due
from dialogs.campaigns.launch import launch, plan_launch
from dialogs.campaigns.spec import parse
from dialogs.engine.calendar import NudgePolicy
from dialogs.engine.content import load_content
from dialogs.engine.runtime import Runtime
from dialogs.registry import DIALOGS
from storage import campaigns as stored
from storage.llm_usage import record_usage
from storage.models import (
    Answer,
    AuditEntry,
    CheckIn,
    Experiment,
    Outbound,
    OutboxState,
    Person,
    PlanItem,
    ProfileEntry,
    Role,
)
from storage.personal_data import export_person, forget_person, scrub
from storage.privacy import Reader
from storage.workshop_places import sign_up
from tests.dialogs.transcript import Transcript
from tests.privacy_world import RecordingSender, deliver, stored_text

CONTENT = load_content()
MONDAY = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # 09:00 in Amsterdam: the digest slot
NEXT_MONDAY = MONDAY + timedelta(days=7)
NAME = "Zedmark Quillfeather"
EMAIL = "zedmark.quillfeather@example.com"
MARKERS = {
    "answer": "QX-ANSWER-shared",
    "answer_private": "QX-ANSWER-private",
    "title": "QX-EXPERIMENT-title",
    "why": "QX-EXPERIMENT-why",
    "learned": "QX-EXPERIMENT-learned",
    "keep": "QX-EXPERIMENT-keep",
    "check_in": "QX-CHECKIN-next",
    "plan": "QX-PLAN-title",
    "profile": "QX-PROFILE-skill",
    "session": "QX-SESSION-typed",
    "late": "QX-LATE-shared",
}
WEEK = f"""\
id: qx-week
name: {{en: Growth week, nl: Groeiweek}}
owner: hr@example.com
start: 2026-12-07
default_language: en
audience:
  emails: [{EMAIL}, kim@example.com, lee@example.com]
workshops:
  - id: energy
    title: {{en: "What gives you energy?", nl: "Waar krijg je energie van?"}}
    starts: "2026-12-08T14:00+01:00"
    minutes: 90
    capacity: 5
steps:
  - id: kickoff
    day: 0
    time: "07:00"
    message: {{en: "Hi {{first_name}}, it's growth week!", nl: "Hoi {{first_name}}, groeiweek!"}}
    actions: [interested, not_for_me]
"""


def world(engine: Engine) -> dict[str, int]:
    recent = MONDAY - timedelta(days=3)
    with Session(engine) as db:
        bea = Person(
            email="bea@example.com",
            name="Bea Baas",
            language="nl",
            role=Role.MANAGER,
            welcomed_at=recent - timedelta(days=60),
            slack_user_id="UBEA",
        )
        hr = Person(email="hr@example.com", name="Hanna Hr", role=Role.HR, welcomed_at=recent)
        db.add_all([bea, hr])
        db.flush()
        zed = Person(
            email=EMAIL,
            name=NAME,
            manager_id=bea.id,
            welcomed_at=recent - timedelta(days=60),
        )
        kim = Person(
            email="kim@example.com",
            name="Kim Keep",
            manager_id=bea.id,
            welcomed_at=recent - timedelta(days=60),
        )
        lee = Person(email="lee@example.com", name="Lee Lane", welcomed_at=recent)
        db.add_all([zed, kim, lee])
        db.flush()
        shared = {"visibility": "manager", "created_at": recent}
        db.add_all(
            [
                Answer(
                    person_id=zed.id,
                    dialog_id="reflection",
                    question_id="dot-on-horizon",
                    text=MARKERS["answer"],
                    **shared,
                ),
                Answer(
                    person_id=zed.id,
                    dialog_id="reflection",
                    question_id="half-year-off",
                    text=MARKERS["answer_private"],
                    created_at=recent,
                ),
                Experiment(
                    person_id=zed.id,
                    title=MARKERS["title"],
                    why=MARKERS["why"],
                    status="done",
                    learned=MARKERS["learned"],
                    keep_doing=MARKERS["keep"],
                    updated_at=recent,
                    done_at=recent,
                    **shared,
                ),
                CheckIn(
                    person_id=zed.id, energy=4, next_step=MARKERS["check_in"], created_at=recent
                ),
                PlanItem(person_id=zed.id, kind="personal", title=MARKERS["plan"], **shared),
                ProfileEntry(person_id=zed.id, kind="skill", text=MARKERS["profile"]),
                PlanItem(person_id=kim.id, kind="team", title="KIM-stays-shared", **shared),
            ]
        )
        db.commit()
        assert bea.id and hr.id and zed.id and kim.id and lee.id
        return {"bea": bea.id, "hr": hr.id, "zed": zed.id, "kim": kim.id, "lee": lee.id}


def test_after_forget_nothing_of_the_person_is_left_in_the_database(
    engine: Engine, db_url: str
) -> None:
    ids = world(engine)
    settings = Settings(_env_file=None, database_url=db_url)  # type: ignore[call-arg]
    runtime = Runtime(engine, dialogs=DIALOGS, content=CONTENT, clock=lambda: MONDAY)

    # a conversation left open, with what was typed in it
    zed = Transcript(runtime, ids["zed"])
    zed.send("reflect")
    zed.send(MARKERS["session"])

    # a campaign: in its audience (by e-mail), a button pressed, a workshop place taken
    spec = parse(WEEK)
    with Session(engine, expire_on_commit=False) as db:
        hr = db.get(Person, ids["hr"])
        assert hr is not None
        plan = plan_launch(db, spec, now=MONDAY - timedelta(hours=3))
        campaign = launch(
            db, CONTENT, plan, owner=hr, now=MONDAY - timedelta(hours=3), policy=NudgePolicy()
        )
        assert campaign.id is not None
        stored.respond(db, campaign.id, "kickoff", ids["zed"], "interested", MONDAY)
        sign_up(db, campaign.id, "energy", ids["zed"], capacity=5, now=MONDAY)
        record_usage(db, feature="follow_up", prompt_tokens=10, completion_tokens=3, now=MONDAY)
        db.commit()

    # the scheduler runs at the digest slot; Bea gets hers on Slack, the others in the console
    enqueue_due(settings, MONDAY)
    slack = RecordingSender(reaches=lambda person: person.slack_user_id is not None)
    deliver(engine, [slack], MONDAY)
    assert MARKERS["learned"] in slack.texts(ids["bea"])  # the digest quoted Zed's lesson
    with Session(engine) as db:
        assert console_inbox(db, ids["zed"], now=MONDAY + timedelta(hours=2), content=CONTENT)
        db.commit()

    # more shared, and next week's digest queued but not delivered yet
    with Session(engine) as db:
        late = MONDAY + timedelta(days=2)
        db.add(
            Answer(
                person_id=ids["zed"],
                dialog_id="reflection",
                question_id="q",
                text=MARKERS["late"],
                visibility="manager",
                created_at=late,
            )
        )
        db.commit()
    enqueue_due(settings, NEXT_MONDAY)
    with Session(engine) as db:
        queued = db.exec(
            select(Outbound).where(Outbound.kind == "digest", Outbound.state == "pending")
        ).one()
        assert MARKERS["late"] in json.dumps(queued.payload)
        exported = export_person(db, db.get(Person, ids["zed"]), reader=Reader.administrator("ops"))
        db.commit()
    assert {"outbound", "campaign_response", "campaign_rsvp", "campaign_recipient"} <= set(exported)
    assert exported["campaign_rsvp"] and exported["campaign_response"] and exported["outbound"]

    before = stored_text(engine)
    for marker in (*MARKERS.values(), NAME, EMAIL):
        assert marker in before, marker  # every kind of copy was really made

    with Session(engine) as db:
        person = db.get(Person, ids["zed"])
        assert person is not None
        forget_person(db, person, by="admin", operator="ops")
        db.commit()
    scrub(engine)

    after = stored_text(engine)
    left = [m for m in (*MARKERS.values(), NAME, EMAIL, "Zedmark", "Quillfeather") if m in after]
    assert left == []
    assert "KIM-stays-shared" in after  # a colleague's shared item, in the same digests
    with Session(engine) as db:
        [deleted] = db.exec(select(AuditEntry).where(AuditEntry.action == "person_deleted")).all()
        assert deleted.detail == {"by": "admin", "operator": "ops"}
        assert deleted.subject_id is None and deleted.actor_id is None
        assert not db.exec(select(AuditEntry).where(AuditEntry.subject_id == ids["zed"])).all()
        digests = db.exec(select(Outbound).where(Outbound.person_id == ids["bea"])).all()
        assert {d.state for d in digests} == {OutboxState.SENT, OutboxState.PENDING}
        [sent] = [d for d in digests if d.state == OutboxState.SENT]
        assert "KIM-stays-shared" in json.dumps(sent.payload)  # only Zed's part went

"""HR campaigns end to end through the real runtime and database: who gets what and when,
responses, workshop places, and launching, editing, pausing and cancelling safely."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dialogs.campaigns.launch import cancel, launch, pause, plan_launch, resume
from dialogs.campaigns.messages import action_intent
from dialogs.campaigns.planner import audience, due_messages
from dialogs.campaigns.report import build, sign_ups
from dialogs.campaigns.spec import CampaignSpec, parse
from dialogs.campaigns.timing import TOO_LATE
from dialogs.engine.calendar import NudgePolicy
from dialogs.engine.content import load_content
from dialogs.engine.dialog import DialogSettings
from dialogs.engine.replies import Offer, reply_from_dict
from dialogs.engine.runtime import Runtime
from dialogs.engine.turn import Turn
from dialogs.registry import DIALOGS
from storage.models import (
    AuditEntry,
    Campaign,
    CampaignAuthor,
    CampaignResponse,
    Experiment,
    Outbound,
    OutboxState,
    Person,
    Role,
)
from storage.outbox import enqueue_many, mark_sent
from tests.dialogs.conftest import add_person

POLICY = NudgePolicy()
CONTENT = load_content()
# Monday 7 December 2026, before anyone's 09:30.
LAUNCH = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)

WEEK = """\
id: growth-week
name: {en: Growth week, nl: Groeiweek}
owner: hr@example.com
start: 2026-12-07
default_language: en
workshops:
  - id: energy
    title: {en: "What gives you energy?", nl: "Waar krijg je energie van?"}
    starts: "2026-12-08T14:00+01:00"
    minutes: 90
    capacity: 2
steps:
  - id: kickoff
    day: 0
    time: "09:30"
    message: {en: "Hi {first_name}, it's growth week!", nl: "Hoi {first_name}, het is groeiweek!"}
    links: [{label: {en: Programme, nl: Programma}, url: "https://intranet.example.com/gw"}]
    actions: [interested, not_for_me, remind_tomorrow]
  - id: lineup
    day: 0
    time: "11:00"
    message: {en: "Today's workshop", nl: "De workshop van vandaag"}
    rsvp: [energy]
  - id: reminder
    day: 1
    time: "13:00"
    message: {en: "Still time to join", nl: "Je kunt nog meedoen"}
    only: {not_responded: kickoff}
  - id: try
    day: 2
    message: {en: "Try one new thing today", nl: "Probeer vandaag iets nieuws"}
    actions: [experiment]
    experiment: {en: "Shadow a colleague for a day", nl: "Een dag meelopen met een collega"}
"""


@pytest.fixture
def hr(engine: Engine) -> int:
    return add_person(engine, "hr@example.com", name="Hanna Hr", role=Role.HR)


def people(engine: Engine, n: int, **fields: Any) -> list[int]:
    return [
        add_person(engine, f"p{i}@example.com", name=f"Person{i} X", **fields) for i in range(n)
    ]


def launch_spec(engine: Engine, spec: CampaignSpec, now: datetime = LAUNCH) -> Campaign:
    with Session(engine, expire_on_commit=False) as db:
        owner = db.exec(select(Person).where(Person.email == spec.owner)).one()
        campaign = launch(
            db, CONTENT, plan_launch(db, spec, now=now), owner=owner, now=now, policy=POLICY
        )
        db.commit()
        return campaign


def tick(engine: Engine, now: datetime) -> int:
    """What the scheduler does each minute for campaigns."""
    with Session(engine) as db:
        added = enqueue_many(db, due_messages(db, CONTENT, now=now, policy=POLICY))
        db.commit()
        return added


def rows(engine: Engine, step: str | None = None) -> list[Outbound]:
    with Session(engine) as db:
        found = list(db.exec(select(Outbound).where(col(Outbound.campaign_id).is_not(None))))
    return [r for r in found if step is None or r.campaign_step == step]


def deliver(engine: Engine, now: datetime) -> None:
    """Mark everything due as sent (what the delivery worker does on success)."""
    with Session(engine) as db:
        for row in db.exec(select(Outbound).where(Outbound.state == OutboxState.PENDING)):
            if row.not_before <= now:
                mark_sent(row, channel="slack", now=now)
                db.add(row)
        db.commit()


def runtime(engine: Engine, now: datetime, tmp_path: Path | None = None) -> Runtime:
    settings = DialogSettings(campaigns_dir=str(tmp_path or "campaigns"))
    return Runtime(engine, dialogs=DIALOGS, content=CONTENT, clock=lambda: now, settings=settings)


def press(engine: Engine, person_id: int, intent: str, now: datetime) -> list[str]:
    replies = runtime(engine, now).handle(Turn(person_id=person_id, intent=intent))
    return [r.text for r in replies]


def test_the_audience_filters_and_exclusions(engine: Engine, hr: int) -> None:
    add_person(
        engine, "a@example.com", department="Sales", country="NL", start_date=date(2026, 3, 1)
    )
    add_person(
        engine, "b@example.com", department="Sales", country="BE", start_date=date(2025, 3, 1)
    )
    add_person(engine, "c@example.com", department="IT", country="NL", role=Role.MANAGER)
    add_person(
        engine, "d@example.com", department="Sales", country="NL", start_date=date(2026, 5, 1)
    )
    spec = parse(
        WEEK.replace(
            "default_language: en\n",
            "default_language: en\naudience:\n  departments: [Sales]\n  countries: [nl, be]\n"
            "  started_after: 2026-01-01\n  exclude: {emails: [D@example.com]}\n",
        )
    )
    with Session(engine) as db:
        assert [p.email for p in audience(db, spec)] == ["a@example.com"]
        everyone = parse(WEEK)
        assert len(audience(db, everyone)) == 5
        managers = parse(
            WEEK.replace("default_language: en\n", "audience: {roles: [manager, hr]}\n")
        )
        assert {p.email for p in audience(db, managers)} == {"c@example.com", "hr@example.com"}


def test_each_person_gets_their_language_at_their_own_local_time(engine: Engine, hr: int) -> None:
    dutch = add_person(engine, "nl@example.com", name="Noor Visser", language="nl")
    yankee = add_person(
        engine, "us@example.com", name="Sam Lee", timezone="America/New_York", country="US"
    )
    launch_spec(engine, parse(WEEK))
    kickoff = {r.person_id: r for r in rows(engine, "kickoff")}
    assert kickoff[dutch].not_before == datetime(2026, 12, 7, 8, 30, tzinfo=UTC)  # 09:30 CET
    assert kickoff[yankee].not_before == datetime(2026, 12, 7, 14, 30, tzinfo=UTC)  # 09:30 EST
    offer = reply_from_dict(kickoff[dutch].payload[0])
    assert isinstance(offer, Offer)
    assert offer.text.startswith("Hoi Noor, het is groeiweek!")
    assert ("Programma", "https://intranet.example.com/gw") in offer.links
    assert [label for _, label in offer.actions] == [
        "Klinkt goed",
        "Niks voor mij",
        "Herinner me morgen",
    ]
    english = reply_from_dict(kickoff[yankee].payload[0])
    assert english.text.startswith("Hi Sam, it's growth week!")
    # The line-up names the workshop in each person's own time zone.
    lineup = {r.person_id: r for r in rows(engine, "lineup")}
    assert "8 dec 2026, 14:00–15:30" in reply_from_dict(lineup[dutch].payload[1]).text
    assert "8 Dec 2026, 08:00–09:30" in reply_from_dict(lineup[yankee].payload[1]).text


def test_a_step_on_a_public_holiday_moves_to_the_next_working_day(engine: Engine, hr: int) -> None:
    dutch = add_person(engine, "nl@example.com", language="nl")
    christmas = parse(WEEK.replace("start: 2026-12-07", "start: 2026-12-25"))
    launch_spec(engine, christmas, now=datetime(2026, 12, 27, 12, 0, tzinfo=UTC))
    kickoff = {r.person_id: r for r in rows(engine, "kickoff")}
    # Friday 25 Dec is Christmas, 26-27 the weekend: Monday 28 December, 09:30 local.
    assert kickoff[dutch].not_before == datetime(2026, 12, 28, 8, 30, tzinfo=UTC)


def test_a_missing_language_falls_back_to_the_campaign_default(engine: Engine, hr: int) -> None:
    dutch = add_person(engine, "nl@example.com", language="nl")
    spec = parse(
        """\
id: english-only
name: Welcome
owner: hr@example.com
start: 2026-12-07
steps:
  - {id: hello, day: 0, message: "Hello {first_name}"}
"""
    )
    launch_spec(engine, spec)
    (row,) = [r for r in rows(engine) if r.person_id == dutch]
    assert reply_from_dict(row.payload[0]).text.startswith("Hello")


def test_launching_twice_and_ticking_again_sends_each_message_once(any_engine: Engine) -> None:
    engine = any_engine
    add_person(engine, "hr@example.com", role=Role.HR)
    people(engine, 4)
    spec = parse(WEEK)
    launch_spec(engine, spec)
    first = len(rows(engine))
    assert first == 5 * 2  # kickoff and line-up are within a day: queued at launch
    launch_spec(engine, spec)
    assert tick(engine, LAUNCH) == 0
    assert tick(engine, LAUNCH + timedelta(minutes=1)) == 0
    assert len(rows(engine)) == first
    keys = [r.idempotency_key for r in rows(engine)]
    assert len(keys) == len(set(keys))
    assert all(k.startswith("campaign:growth-week:") for k in keys)


def test_reminders_go_only_to_people_who_did_not_respond(engine: Engine, hr: int) -> None:
    ids = people(engine, 3)
    campaign = launch_spec(engine, parse(WEEK))
    assert campaign.id is not None
    monday = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    deliver(engine, monday)
    press(engine, ids[0], action_intent(campaign.id, "kickoff", "interested"), monday)
    press(engine, ids[1], action_intent(campaign.id, "kickoff", "not_for_me"), monday)
    # Not queued ahead: decided when due, when the responses are in.
    tick(engine, datetime(2026, 12, 8, 11, 0, tzinfo=UTC))
    assert rows(engine, "reminder") == []
    tick(engine, datetime(2026, 12, 8, 12, 1, tzinfo=UTC))  # 13:01 CET
    assert {r.person_id for r in rows(engine, "reminder")} == {ids[2], hr}


def test_workshop_places_fill_up_then_a_waitlist_and_a_freed_place_moves_up(
    any_engine: Engine,
) -> None:
    engine = any_engine
    add_person(engine, "hr@example.com", role=Role.HR)
    ids = people(engine, 4)
    campaign = launch_spec(engine, parse(WEEK))
    assert campaign.id is not None
    now = datetime(2026, 12, 7, 10, 30, tzinfo=UTC)
    rsvp = action_intent(campaign.id, "lineup", "rsvp", "energy")
    assert "You're signed up for What gives you energy?" in press(engine, ids[0], rsvp, now)[0]
    assert "signed up" in press(engine, ids[1], rsvp, now)[0]
    assert "full, so you're on the waitlist (number 1)" in press(engine, ids[2], rsvp, now)[0]
    assert "waitlist (number 2)" in press(engine, ids[3], rsvp, now)[0]
    assert "already have a place" in press(engine, ids[0], rsvp, now)[0]  # pressed twice
    give_up = action_intent(campaign.id, "lineup", "cancel", "energy")
    assert "free again" in press(engine, ids[0], give_up, now)[0]
    with Session(engine) as db:
        report = build(db, db.get(Campaign, campaign.id), min_group=5, now=now)  # type: ignore[arg-type]
    assert (report.going("energy"), report.waiting("energy")) == (2, 1)
    moved = [
        r for r in rows(engine, "lineup") if r.person_id == ids[2] and "place-" in r.idempotency_key
    ]
    assert len(moved) == 1 and "a place opened up" in reply_from_dict(moved[0].payload[0]).text
    # A workshop that already took place takes no sign-ups.
    later = datetime(2026, 12, 9, 9, 0, tzinfo=UTC)
    assert "already taken place" in press(engine, ids[0], rsvp, later)[0]


def test_the_owner_sees_sign_ups_by_name_and_it_is_audited(engine: Engine, hr: int) -> None:
    ids = people(engine, 2)
    campaign = launch_spec(engine, parse(WEEK))
    assert campaign.id is not None
    now = datetime(2026, 12, 7, 10, 30, tzinfo=UTC)
    press(engine, ids[0], action_intent(campaign.id, "lineup", "rsvp", "energy"), now)
    with Session(engine) as db:
        found = db.get(Campaign, campaign.id)
        owner, other = db.get(Person, hr), db.get(Person, ids[1])
        assert found and owner and other
        assert sign_ups(db, found, other, now=now) is None
        lists = sign_ups(db, found, owner, now=now)
        assert lists is not None and [a.name for a in lists["energy"]] == ["Person0 X"]
        db.commit()
        seen = db.exec(select(AuditEntry).where(AuditEntry.subject_id == ids[0])).all()
    assert [e.action for e in seen] == ["campaign_sign_ups"]


def test_a_crafted_button_from_someone_outside_the_campaign_does_nothing(
    engine: Engine, hr: int
) -> None:
    spec = parse(WEEK.replace("default_language: en\n", "audience: {emails: [p0@example.com]}\n"))
    inside, outside = people(engine, 2)
    campaign = launch_spec(engine, spec)
    assert campaign.id is not None
    now = datetime(2026, 12, 7, 10, 30, tzinfo=UTC)
    said = press(engine, outside, action_intent(campaign.id, "kickoff", "interested"), now)
    assert "can't find that message" in said[0]
    assert (
        "can't find"
        in press(engine, inside, action_intent(campaign.id, "kickoff", "dance"), now)[0]
    )
    assert "can't find" in press(engine, inside, "campaign:999:kickoff:interested", now)[0]
    assert "can't find" in press(engine, inside, "campaign:nonsense", now)[0]
    with Session(engine) as db:
        assert db.exec(select(CampaignResponse)).all() == []


def test_remind_me_tomorrow_sends_the_message_again_once(engine: Engine, hr: int) -> None:
    (person,) = people(engine, 1)
    campaign = launch_spec(engine, parse(WEEK))
    assert campaign.id is not None
    now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    remind = action_intent(campaign.id, "kickoff", "remind_tomorrow")
    assert press(engine, person, remind, now) == [
        "Sure. I'll bring it up again on Tuesday at 09:30."
    ]
    press(engine, person, remind, now)
    again = [r for r in rows(engine, "kickoff") if r.idempotency_key.endswith(":again")]
    assert len(again) == 1 and again[0].person_id == person
    assert again[0].not_before == datetime(2026, 12, 8, 8, 30, tzinfo=UTC)
    offer = reply_from_dict(again[0].payload[0])
    assert isinstance(offer, Offer) and "Remind me tomorrow" not in [
        label for _, label in offer.actions
    ]


def test_try_it_as_an_experiment_is_counted_for_the_campaign(engine: Engine, hr: int) -> None:
    ids = people(engine, 6)
    campaign = launch_spec(engine, parse(WEEK))
    assert campaign.id is not None
    now = datetime(2026, 12, 9, 10, 0, tzinfo=UTC)
    rt = runtime(engine, now)
    for n, pid in enumerate(ids):
        replies = rt.handle(
            Turn(person_id=pid, intent=action_intent(campaign.id, "try", "experiment"))
        )
        assert "'Shadow a colleague for a day'" in replies[-1].text
        if n == 5:
            break  # the last one only looks
        rt.handle(Turn(person_id=pid, text="1"))  # yes, plan it
        rt.handle(Turn(person_id=pid, text="skip"))  # why
        rt.handle(Turn(person_id=pid, text="skip"))  # when
    with Session(engine) as db:
        saved = db.exec(select(Experiment).where(Experiment.campaign_id == campaign.id)).all()
        assert {e.title for e in saved} == {"Shadow a colleague for a day"}
        report = build(db, db.get(Campaign, campaign.id), min_group=5, now=now)  # type: ignore[arg-type]
    assert report.figures.experiments == 5
    assert report.figures.cell(report.figures.experiments) == "5"
    assert report.figures.cell(report.figures.steps["try"].responded) == "6"


def test_small_counts_are_suppressed_for_hr(engine: Engine, hr: int) -> None:
    ids = people(engine, 3)
    campaign = launch_spec(engine, parse(WEEK))
    assert campaign.id is not None
    now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    press(engine, ids[0], action_intent(campaign.id, "kickoff", "interested"), now)
    with Session(engine) as db:
        report = build(db, db.get(Campaign, campaign.id), min_group=5, now=now)  # type: ignore[arg-type]
    assert report.figures.cell(report.figures.responded) == "<5"
    assert report.figures.targeted == 4


def test_opted_out_and_paused_people_are_skipped_and_counted(engine: Engine, hr: int) -> None:
    ids = people(engine, 3)
    with Session(engine) as db:
        out, paused = db.get(Person, ids[0]), db.get(Person, ids[1])
        assert out and paused
        out.campaigns_opt_out = True
        paused.nudge_paused_until = date(2026, 12, 7)
        db.add_all([out, paused])
        db.commit()
    spec = parse(WEEK)
    with Session(engine) as db:
        plan = plan_launch(db, spec, now=LAUNCH)
    assert (plan.audience, plan.opted_out, plan.paused) == (4, 1, 1)
    launch_spec(engine, spec)
    kickoff = {r.person_id: r for r in rows(engine, "kickoff")}
    assert ids[0] not in kickoff  # not a recipient at all
    assert (
        kickoff[ids[1]].state == OutboxState.SKIPPED
        and kickoff[ids[1]].last_error == "paused nudges"
    )
    assert kickoff[ids[2]].state == OutboxState.PENDING
    # Opting out later (settings) drops what was waiting for them.
    rt = runtime(engine, LAUNCH)
    rt.handle(Turn(person_id=ids[2], intent="settings"))
    rt.handle(Turn(person_id=ids[2], text="Messages from HR campaigns"))
    said = rt.handle(Turn(person_id=ids[2], text="No, leave me out"))
    assert "no more campaign messages" in said[0].text
    assert {r.state for r in rows(engine) if r.person_id == ids[2]} == {OutboxState.SKIPPED}
    with Session(engine) as db:
        campaign = db.exec(select(Campaign)).one()
        report = build(db, campaign, min_group=5, now=LAUNCH)
    assert report.figures.skip_reasons["opted out of campaigns"] == 2
    assert report.figures.skip_reasons["paused nudges"] == 2


def test_cancel_mid_flight_drops_what_is_unsent_and_keeps_what_was_sent(
    engine: Engine, hr: int
) -> None:
    people(engine, 2)
    campaign = launch_spec(engine, parse(WEEK))
    deliver(engine, datetime(2026, 12, 7, 9, 0, tzinfo=UTC))  # kickoff out, line-up waiting
    with Session(engine) as db:
        found = db.get(Campaign, campaign.id)
        assert found
        assert cancel(db, found, now=LAUNCH) == 3
        db.commit()
    assert {r.state for r in rows(engine, "kickoff")} == {OutboxState.SENT}
    assert {(r.state, r.last_error) for r in rows(engine, "lineup")} == {
        (OutboxState.SKIPPED, "campaign cancelled")
    }
    assert tick(engine, datetime(2026, 12, 9, 9, 0, tzinfo=UTC)) == 0
    with Session(engine) as db, pytest.raises(Exception, match="cancelled"):
        plan_launch(db, parse(WEEK), now=LAUNCH)


def test_an_edit_mid_flight_changes_only_what_is_not_sent_yet(engine: Engine, hr: int) -> None:
    people(engine, 2)
    spec = parse(WEEK)
    launch_spec(engine, spec)
    deliver(engine, datetime(2026, 12, 7, 9, 0, tzinfo=UTC))  # kickoff sent
    edited = parse(
        WEEK.replace(
            "Hi {first_name}, it's growth week!", "Hello {first_name}, growth week!"
        ).replace("Today's workshop", "Today's workshop (new room)")
        + '  - {id: extra, day: 0, time: "15:00", message: "One more thing"}\n'
    )
    with Session(engine, expire_on_commit=False) as db:
        plan = plan_launch(db, edited, now=LAUNCH)
        assert plan.is_edit and set(plan.changed_steps) == {"kickoff", "lineup", "extra"}
        owner = db.get(Person, hr)
        assert owner
        launch(db, CONTENT, plan, owner=owner, now=LAUNCH, policy=POLICY)
        db.commit()
    assert plan.updated_messages == 3  # the line-ups, still waiting
    # Sent messages stay exactly as they were.
    assert all(
        reply_from_dict(r.payload[0]).text.startswith("Hi ") for r in rows(engine, "kickoff")
    )
    assert all("(new room)" in reply_from_dict(r.payload[0]).text for r in rows(engine, "lineup"))
    assert len(rows(engine, "extra")) == 3
    with Session(engine) as db:
        assert db.exec(select(Campaign)).one().version == 2
    # Removing a step drops its waiting messages.
    without_extra = parse(
        WEEK.replace(
            "Hi {first_name}, it's growth week!", "Hello {first_name}, growth week!"
        ).replace("Today's workshop", "Today's workshop (new room)")
    )
    with Session(engine, expire_on_commit=False) as db:
        plan = plan_launch(db, without_extra, now=LAUNCH)
        owner = db.get(Person, hr)
        assert owner and plan.removed_steps == ["extra"]
        launch(db, CONTENT, plan, owner=owner, now=LAUNCH, policy=POLICY)
        db.commit()
    assert {r.state for r in rows(engine, "extra")} == {OutboxState.SKIPPED}


def test_pause_holds_messages_and_resume_sends_them_at_a_good_moment(
    engine: Engine, hr: int
) -> None:
    people(engine, 1)
    campaign = launch_spec(engine, parse(WEEK))
    with Session(engine) as db:
        found = db.get(Campaign, campaign.id)
        assert found
        assert pause(db, found, now=LAUNCH) == 4
        db.commit()
    assert {r.state for r in rows(engine)} == {OutboxState.HELD}
    assert tick(engine, datetime(2026, 12, 8, 12, 30, tzinfo=UTC)) == 0  # paused: nothing new
    late = datetime(2026, 12, 8, 20, 0, tzinfo=UTC)  # 21:00 in Amsterdam
    with Session(engine) as db:
        found = db.get(Campaign, campaign.id)
        assert found
        assert resume(db, found, now=late, policy=POLICY) == 2  # the kickoffs
        db.commit()
    # The line-up invites to a workshop that started at 13:00 UTC: never sent after it.
    assert {(r.state, r.last_error) for r in rows(engine, "lineup")} == {
        (OutboxState.SKIPPED, TOO_LATE)
    }
    kickoff = rows(engine, "kickoff")
    assert {r.state for r in kickoff} == {OutboxState.PENDING}
    # Not at nine in the evening: the same local time on the next working day.
    assert {r.not_before for r in kickoff} == {datetime(2026, 12, 9, 8, 30, tzinfo=UTC)}


def test_an_onboarding_campaign_follows_each_start_date(engine: Engine, hr: int) -> None:
    spec = parse(
        """\
id: buddy
name: Your buddy
owner: hr@example.com
start: start_date
audience: {started_after: 2026-01-01}
steps:
  - {id: welcome, day: 0, time: "10:00", message: "Welcome {first_name}!"}
  - {id: coffee, day: 4, time: "11:00", message: "Coffee with your buddy yet?"}
"""
    )
    old = add_person(engine, "old@example.com", start_date=date(2025, 6, 1))
    launch_spec(engine, spec, now=datetime(2026, 12, 7, 6, 0, tzinfo=UTC))
    newbie = add_person(engine, "new@example.com", name="Nina New", start_date=date(2026, 12, 14))
    tick(engine, datetime(2026, 12, 13, 8, 0, tzinfo=UTC))  # joins; nothing due within a day
    assert rows(engine) == []
    tick(engine, datetime(2026, 12, 14, 8, 0, tzinfo=UTC))
    (welcome,) = rows(engine, "welcome")
    assert welcome.person_id == newbie and welcome.person_id != old
    assert welcome.not_before == datetime(2026, 12, 14, 9, 0, tzinfo=UTC)
    tick(engine, datetime(2026, 12, 17, 12, 0, tzinfo=UTC))
    assert [r.person_id for r in rows(engine, "coffee")] == [newbie]


def test_hr_launches_pauses_and_follows_a_campaign_in_chat(
    engine: Engine, hr: int, tmp_path: Path
) -> None:
    people(engine, 2)
    with Session(engine) as db:  # an author who may reach everyone (campaign_guardrails)
        db.add(CampaignAuthor(person_id=hr, everyone=True))
        db.commit()
    (tmp_path / "growth-week.yaml").write_text(WEEK, encoding="utf-8")
    (tmp_path / "broken.yaml").write_text("id: Broken\n", encoding="utf-8")
    rt = runtime(engine, LAUNCH, tmp_path)
    employee = rt.handle(Turn(person_id=hr + 1, intent="campaigns"))
    assert "Campaigns are run by HR" in employee[0].text
    listed = rt.handle(Turn(person_id=hr, text="campaigns"))
    labels = [o.label for o in listed[-1].options()]  # type: ignore[union-attr]
    assert labels == [
        "Launch broken (broken.yaml)",
        "Launch growth-week (growth-week.yaml)",
        "Nothing, thanks",
    ]
    said = rt.handle(Turn(person_id=hr, text="1"))
    assert "needs fixing" in said[0].text and "id:" in said[0].text
    rt.handle(Turn(person_id=hr, text="campaigns"))
    preview = rt.handle(Turn(person_id=hr, text="2"))
    assert "would reach 3 people (en: 3)" in preview[-1].text
    launched = rt.handle(Turn(person_id=hr, text="yes"))
    assert "Launched! 6 messages are queued" in launched[0].text
    rt.handle(Turn(person_id=hr, text="campaigns"))
    status = rt.handle(Turn(person_id=hr, text="1"))
    assert "Growth week (running)" in status[0].text and "• People: 3" in status[0].text
    assert "What gives you energy?: 0 signed up, 0 on the waitlist" in status[0].text
    paused = rt.handle(Turn(person_id=hr, text="Pause it"))
    assert "Paused. 6 messages wait" in paused[0].text
    with Session(engine) as db:
        assert db.exec(select(Campaign)).one().state == "paused"
    rt.handle(Turn(person_id=hr, text="campaigns"))
    rt.handle(Turn(person_id=hr, text="1"))
    assert (
        "Running again. 6 waiting messages"
        in rt.handle(Turn(person_id=hr, text="Resume it"))[0].text
    )
    rt.handle(Turn(person_id=hr, text="campaigns"))
    shown = rt.handle(Turn(person_id=hr, text="1"))
    owner_options = [o.label for o in shown[-1].options()]  # type: ignore[union-attr]
    assert "Who signed up (by name)" in owner_options  # hr@example.com owns it
    names = rt.handle(Turn(person_id=hr, text="Who signed up (by name)"))
    assert "What gives you energy? (0 going, 0 waiting):" in names[0].text
    rt.handle(Turn(person_id=hr, text="campaigns"))
    rt.handle(Turn(person_id=hr, text="1"))
    confirm = rt.handle(Turn(person_id=hr, text="Cancel it"))
    assert "Cancel Growth week for good?" in confirm[-1].text
    assert "Cancelled. 6 messages" in rt.handle(Turn(person_id=hr, text="yes"))[0].text


def test_campaign_messages_do_not_make_personal_nudges_gentler(engine: Engine, hr: int) -> None:
    """Unanswered campaign messages are HR's, not missed nudges: the rhythm stays as chosen."""
    from dialogs.nudges.rules import due_nudges

    (person,) = people(engine, 1)
    with Session(engine) as db:
        found = db.get(Person, person)
        assert found
        found.welcomed_at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # weekly: due on 8 Dec
        found.nudge_frequency = "weekly"
        db.add(found)
        db.commit()
    launch_spec(engine, parse(WEEK))
    deliver(engine, datetime(2026, 12, 7, 12, 0, tzinfo=UTC))  # two messages, unanswered
    assert len([r for r in rows(engine) if r.person_id == person and r.state == "sent"]) == 2
    with Session(engine) as db:
        due = due_nudges(db, CONTENT, now=datetime(2026, 12, 8, 8, 31, tzinfo=UTC), policy=POLICY)
    assert person in [n.person_id for n in due if n.kind == "checkin"]

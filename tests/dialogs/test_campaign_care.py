"""Attendee care and "not for me": notices to everyone holding a place or waiting when a workshop
or the whole campaign is cancelled or a workshop moves, confirmations with day, time and place
in the reader's zone and language, "not for me" stopping the rest of a campaign (and undoing
it), and the workshop as an .ics file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from dialogs.campaigns.care import NOTICE, REMINDER
from dialogs.campaigns.ics import event, fold
from dialogs.campaigns.launch import cancel
from dialogs.campaigns.messages import CARE_KIND, action_intent
from dialogs.campaigns.report import build
from dialogs.campaigns.spec import parse
from dialogs.engine.replies import reply_from_dict
from storage import campaigns as stored
from storage.models import Campaign, CampaignRecipient, Outbound, OutboxState, Role
from tests.dialogs.conftest import add_person
from tests.dialogs.test_campaign_zones import FILE, LAUNCH, SPEC, campaign_rows, run
from tests.dialogs.test_campaigns import launch_spec, press

MONDAY = datetime(2026, 12, 7, tzinfo=UTC)


@pytest.fixture
def people(engine: Engine) -> dict[str, int]:
    add_person(engine, "hr@example.com", name="Hanna Hr", role=Role.HR)
    return {
        "ann": add_person(engine, "ann@example.com", name="Ann de Vries", language="nl"),
        "bob": add_person(engine, "bob@example.com", name="Bob Smith", timezone="Europe/London"),
        "cy": add_person(engine, "cy@example.com", name="Cy Lee", timezone="America/New_York"),
    }


def small(text: str) -> str:
    """The crafting workshop with one place, so a second sign-up waits."""
    return text.replace("    where: Online\n    capacity: 10", "    where: Online\n    capacity: 1")


def notices(engine: Engine) -> dict[int, list[Outbound]]:
    found: dict[int, list[Outbound]] = {}
    for row in campaign_rows(engine):
        if (row.campaign_step or "").startswith(NOTICE):
            found.setdefault(row.person_id, []).append(row)
    return found


def text_of(row: Outbound) -> str:
    return "\n".join(reply_from_dict(p).text for p in row.payload)


def sign_up_two(engine: Engine, people: dict[str, int], campaign: Campaign) -> None:
    """Ann gets the one place at crafting, Bob waits."""
    assert campaign.id is not None
    intent = action_intent(campaign.id, "tuesday", "rsvp", "crafting")
    ann = press(engine, people["ann"], intent, MONDAY + timedelta(hours=7))
    confirmed, calendar = ann[-2:]  # then "add it to your calendar" (tests/web)
    assert "Wanneer: dinsdag 8 december, 10:00–11:00 (CET)" in confirmed  # in Dutch, her zone
    assert "Waar: Online" in confirmed and calendar == "Zet hem meteen in je agenda:"
    bob = press(engine, people["bob"], intent, MONDAY + timedelta(hours=7, minutes=1))
    assert "waitlist (number 1)" in bob[-1]
    assert "When: Tuesday 8 December, 09:00–10:00 (GMT)" in bob[-1]


def test_cancelling_a_workshop_tells_who_holds_a_place_and_who_waits(
    engine: Engine, people: dict[str, int]
) -> None:
    campaign = launch_spec(engine, parse(small(FILE)), now=LAUNCH)
    run(engine, MONDAY + timedelta(hours=6))
    sign_up_two(engine, people, campaign)
    run(engine, MONDAY + timedelta(hours=8), start=MONDAY + timedelta(hours=7, minutes=15))
    reminders = [r for r in campaign_rows(engine) if r.campaign_step == REMINDER + "crafting"]
    # Ann's, a day and 2 hours before (queued up to a day ahead)
    assert [(r.person_id, r.state) for r in reminders] == [(people["ann"], OutboxState.PENDING)] * 2
    edited = small(FILE).replace(
        "    where: Online\n    capacity: 1",
        "    where: Online\n    capacity: 1\n    cancelled: true",
    )
    launch_spec(engine, parse(edited), now=MONDAY + timedelta(hours=9))
    told = notices(engine)
    assert set(told) == {people["ann"], people["bob"]}
    (ann,) = told[people["ann"]]
    (bob,) = told[people["bob"]]
    assert ann.kind == CARE_KIND and ann.state == OutboxState.PENDING
    assert text_of(ann).startswith("Helaas, Ann: Je werk op maat gaat niet door, dus je plek")
    assert text_of(bob).startswith("Sorry, Bob: Crafting your job has been cancelled. You were on")
    # her reminder for it is dropped; nobody can sign up any more
    reminders = [r for r in campaign_rows(engine) if r.campaign_step == REMINDER + "crafting"]
    assert {(r.state, r.last_error) for r in reminders} == {
        (OutboxState.SKIPPED, "workshop cancelled")
    }
    assert campaign.id is not None
    late = press(
        engine,
        people["cy"],
        action_intent(campaign.id, "tuesday", "rsvp", "crafting"),
        MONDAY + timedelta(hours=9, minutes=5),
    )
    assert late == ["Crafting your job has been cancelled, so you can't sign up for it any more."]
    # applying the same file again tells nobody twice
    before = len(campaign_rows(engine))
    again = edited.replace("That's a wrap", "That's a wrap!")
    launch_spec(engine, parse(again), now=MONDAY + timedelta(hours=10))
    assert len(campaign_rows(engine)) == before


def test_moving_a_workshop_tells_them_the_new_time_and_reminds_them_then(
    engine: Engine, people: dict[str, int]
) -> None:
    campaign = launch_spec(engine, parse(small(FILE)), now=LAUNCH)
    run(engine, MONDAY + timedelta(hours=6))
    sign_up_two(engine, people, campaign)
    moved = small(FILE).replace('"2026-12-08T10:00+01:00"', '"2026-12-08T15:00+01:00"')
    launch_spec(engine, parse(moved), now=MONDAY + timedelta(hours=9))
    told = notices(engine)
    (ann,) = told[people["ann"]]
    assert "Je plek blijft van jou" in text_of(ann)
    assert "Wanneer: dinsdag 8 december, 15:00–16:00 (CET)" in text_of(ann)
    assert ann.payload[0]["actions"][0][0] == action_intent(
        campaign.id or 0, "crafting-eve", "cancel", "crafting"
    )
    (bob,) = told[people["bob"]]
    assert "still on the waitlist" in text_of(bob) and not bob.payload[0]["actions"]
    run(engine, datetime(2026, 12, 8, 14, 30, tzinfo=UTC), start=MONDAY + timedelta(hours=9))
    reminders = [r for r in campaign_rows(engine) if r.campaign_step == REMINDER + "crafting"]
    assert {r.person_id for r in reminders} == {people["ann"]}  # Bob waits: no reminder
    assert sorted(r.sent_at for r in reminders if r.sent_at) == [
        datetime(2026, 12, 7, 14, 0, tzinfo=UTC),  # a day before the new time
        datetime(2026, 12, 8, 12, 0, tzinfo=UTC),  # 2 hours before
    ]


def test_cancelling_the_campaign_tells_everyone_holding_a_place(
    engine: Engine, people: dict[str, int]
) -> None:
    campaign = launch_spec(engine, parse(small(FILE)), now=LAUNCH)
    run(engine, MONDAY + timedelta(hours=6))
    sign_up_two(engine, people, campaign)
    with Session(engine) as db:
        found = db.get(Campaign, campaign.id)
        assert found is not None
        cancel(db, found, now=MONDAY + timedelta(hours=8))
        db.commit()
    told = notices(engine)
    assert set(told) == {people["ann"], people["bob"]}
    assert text_of(told[people["bob"]][0]).startswith(
        "Sorry, Bob: Growth week has been called off, so Crafting your job won't take place."
    )
    assert all(r.state == OutboxState.PENDING for rows in told.values() for r in rows)
    # everything else not sent yet was dropped; the notices are all that is left to send
    waiting = [r for r in campaign_rows(engine) if r.state == OutboxState.PENDING]
    assert {r.campaign_step for r in waiting} == {NOTICE + "crafting"}


def test_not_for_me_stops_the_rest_of_the_campaign_and_the_report_counts_it(
    engine: Engine, people: dict[str, int]
) -> None:
    campaign = launch_spec(engine, SPEC, now=LAUNCH)
    assert campaign.id is not None
    run(engine, MONDAY + timedelta(hours=9, minutes=30))  # Bob's kick-off goes at 09:30
    stop = action_intent(campaign.id, "kickoff", "not_for_me")
    said = press(engine, people["bob"], stop, MONDAY + timedelta(hours=9, minutes=35))
    assert said == [
        "Fair enough, thanks for letting me know. I won't send you anything more about Growth week."
    ]
    run(
        engine,
        datetime(2026, 12, 9, 23, 0, tzinfo=UTC),
        start=MONDAY + timedelta(hours=9, minutes=45),
    )
    theirs = {r.campaign_step: r for r in campaign_rows(engine) if r.person_id == people["bob"]}
    # the Monday invitation (queued a day ahead) and every later step: skipped, noted
    assert {step: r.state for step, r in theirs.items()} == {
        "kickoff": OutboxState.SENT,
        "crafting-eve": OutboxState.SENT,
        "tuesday": OutboxState.SENT,  # moved earlier: London's Tuesday 09:00 is too late
        "monday": OutboxState.SKIPPED,
        "wrap-up": OutboxState.SKIPPED,
    }
    assert theirs["wrap-up"].last_error == stored.STOPPED
    others = [r for r in campaign_rows(engine) if r.person_id == people["ann"]]
    assert all(r.state == OutboxState.SENT for r in others)
    with Session(engine) as db:
        found = db.get(Campaign, campaign.id)
        assert found is not None
        report = build(db, found, min_group=3, now=datetime(2026, 12, 10, tzinfo=UTC))
        recipient = db.exec(
            select(CampaignRecipient).where(CampaignRecipient.person_id == people["bob"])
        ).one()
    assert recipient.stopped_at == MONDAY + timedelta(hours=9, minutes=35)
    assert report.figures.skip_reasons[stored.STOPPED] == 2
    assert report.figures.steps["kickoff"].responses["not_for_me"] == 1


def test_keep_me_posted_undoes_not_for_me(engine: Engine, people: dict[str, int]) -> None:
    campaign = launch_spec(engine, SPEC, now=LAUNCH)
    assert campaign.id is not None
    run(engine, MONDAY + timedelta(hours=9, minutes=30))
    stop = action_intent(campaign.id, "kickoff", "not_for_me")
    press(engine, people["bob"], stop, MONDAY + timedelta(hours=9, minutes=35))
    keep = action_intent(campaign.id, "kickoff", "keep")
    assert press(engine, people["bob"], keep, MONDAY + timedelta(hours=9, minutes=40)) == [
        "Happy to! You'll hear about Growth week again."
    ]
    run(
        engine,
        datetime(2026, 12, 9, 23, 0, tzinfo=UTC),
        start=MONDAY + timedelta(hours=9, minutes=45),
    )
    theirs = {
        r.campaign_step: r.state for r in campaign_rows(engine) if r.person_id == people["bob"]
    }
    assert theirs["monday"] == OutboxState.SENT  # its moment (11:00 London) was still ahead
    assert theirs["wrap-up"] == OutboxState.SENT
    with Session(engine) as db:
        assert stored.stopped(db, campaign.id) == set()


def test_the_workshop_as_a_calendar_file() -> None:
    spec = parse(
        FILE.replace(
            "where: {en: Room De Linde, nl: Zaal De Linde}",
            'where: {en: "Room 1, floor 2; \\\\ wing", nl: Zaal}',
        )
    )
    workshop = spec.workshop("energy")
    assert workshop is not None
    ics = event(spec, workshop, lang="en", stamp=datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    assert ics.endswith("\r\n") and "\n" not in ics.replace("\r\n", "")
    lines = ics.split("\r\n")
    assert lines[:6] == [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Regie//Campaign workshops//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
    ]
    assert "UID:zones-week.energy@regie.invalid" in lines
    assert "DTSTART:20261207T130000Z" in lines
    assert "DTEND:20261207T143000Z" in lines
    assert "LOCATION:Room 1\\, floor 2\\; \\\\ wing" in lines
    assert "SUMMARY:What gives you energy?" in lines
    assert all(len(line.encode()) <= 75 for line in lines)
    # the same UID when it moves: importing again updates the event
    moved = parse(FILE.replace('"2026-12-07T14:00+01:00"', '"2026-12-07T16:00+01:00"'))
    again = event(moved, moved.workshops[0], lang="en", stamp=datetime(2026, 12, 2, tzinfo=UTC))
    assert "UID:zones-week.energy@regie.invalid" in again.split("\r\n")


def test_long_lines_fold_at_75_octets_without_splitting_a_character() -> None:
    line = "SUMMARY:" + "é" * 80
    folded = fold(line)
    parts = folded.split("\r\n ")
    assert [len(p.encode()) for p in parts] == [74, 74, 20]
    assert "".join(parts) == line

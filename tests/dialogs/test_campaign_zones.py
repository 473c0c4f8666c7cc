"""Campaigns across time zones: workshops in Amsterdam, colleagues in Amsterdam, London, New York
and Sydney. No invitation reaches anyone after its workshop starts; workshop-timed steps and
attendee reminders arrive in each person's day; "too_late: earlier" moves an invitation to an
earlier working day; and the checks before launching say so, per zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dialogs.campaigns.care import REMINDER
from dialogs.campaigns.messages import CARE_KIND, action_intent
from dialogs.campaigns.planner import due_messages
from dialogs.campaigns.spec import CampaignFileError, parse
from dialogs.campaigns.timing import TOO_LATE, keep_their_moment, late_lines, missed_lines
from dialogs.engine.replies import reply_from_dict
from storage.models import Outbound, OutboxState, Person, Role
from storage.outbox import enqueue_many, mark_sent
from tests.dialogs.conftest import add_person
from tests.dialogs.test_campaigns import CONTENT, POLICY, launch_spec, press

FILE = """\
id: zones-week
name: {en: Growth week, nl: Groeiweek}
owner: hr@example.com
start: 2026-12-07
default_language: en
audience: {exclude: {emails: [hr@example.com]}}
attendee_reminders: [1d, 2h]
workshops:
  - id: energy
    title: {en: "What gives you energy?", nl: "Waar krijg je energie van?"}
    starts: "2026-12-07T14:00+01:00"
    zone: Europe/Amsterdam
    minutes: 90
    where: {en: Room De Linde, nl: Zaal De Linde}
    capacity: 10
  - id: crafting
    title: {en: Crafting your job, nl: Je werk op maat}
    starts: "2026-12-08T10:00+01:00"
    zone: Europe/Amsterdam
    minutes: 60
    where: Online
    capacity: 10
steps:
  - id: kickoff
    day: 0
    time: "09:30"
    message: {en: "Hi {first_name}, it's growth week!", nl: "Hoi {first_name}, het is groeiweek!"}
    actions: [interested, not_for_me]
  - id: monday
    day: 0
    time: "11:00"
    message: {en: "Today's workshop", nl: "De workshop van vandaag"}
    rsvp: [energy]
  - id: crafting-eve
    workshop: crafting
    before: 1d
    message: {en: "Tomorrow: crafting", nl: "Morgen: je werk op maat"}
    rsvp: [crafting]
  - id: tuesday
    day: 1
    time: "09:00"
    too_late: earlier
    message: {en: "Crafting this morning", nl: "Vanochtend: je werk op maat"}
    rsvp: [crafting]
  - id: wrap-up
    day: 2
    time: "10:00"
    message: {en: "That's a wrap", nl: "Dat was het"}
"""
SPEC = parse(FILE)
ZONES = {
    "ams": "Europe/Amsterdam",
    "lon": "Europe/London",
    "nyc": "America/New_York",
    "syd": "Australia/Sydney",
}
LAUNCH = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)  # Sunday, before anything is due
STARTS = {w.id: w.starts for w in SPEC.workshops}


@pytest.fixture
def team(engine: Engine) -> dict[str, int]:
    add_person(engine, "hr@example.com", name="Hanna Hr", role=Role.HR, timezone="Europe/Paris")
    return {
        who: add_person(engine, f"{who}@example.com", name=f"{who.title()} X", timezone=zone)
        for who, zone in ZONES.items()
    }


def run(engine: Engine, until: datetime, *, start: datetime = LAUNCH) -> None:
    """The scheduler every 15 minutes from ``start`` to ``until``; what is due is delivered."""
    now = start
    while now <= until:
        with Session(engine) as db:
            enqueue_many(db, due_messages(db, CONTENT, now=now, policy=POLICY))
            for row in db.exec(select(Outbound).where(Outbound.state == OutboxState.PENDING)):
                if row.not_before <= now:
                    mark_sent(row, channel="slack", now=now)
                    db.add(row)
            db.commit()
        now += timedelta(minutes=15)


def campaign_rows(engine: Engine) -> list[Outbound]:
    with Session(engine) as db:
        return list(db.exec(select(Outbound).where(col(Outbound.campaign_id).is_not(None))))


def local(at: datetime, who: str) -> str:
    return f"{at.astimezone(ZoneInfo(ZONES[who])):%a %H:%M}"


def test_no_invitation_reaches_anyone_after_its_workshop_starts(
    engine: Engine, team: dict[str, int]
) -> None:
    launch_spec(engine, SPEC, now=LAUNCH)
    run(engine, datetime(2026, 12, 9, 23, 0, tzinfo=UTC))
    rows = campaign_rows(engine)
    name = {pid: who for who, pid in team.items()}
    invitations = {s.id: s.invites_to for s in SPEC.steps if s.invites_to}
    sent = [r for r in rows if r.state == OutboxState.SENT]
    for row in sent:
        for workshop in invitations.get(row.campaign_step or "", ()):
            assert row.sent_at is not None and row.sent_at < STARTS[workshop], row.idempotency_key
    # New York's 11:00 is 17:00 in Amsterdam: the Monday invitation is skipped, and counted
    skipped = {
        (name[r.person_id], r.campaign_step): r.last_error
        for r in rows
        if r.state == OutboxState.SKIPPED
    }
    assert skipped == {("nyc", "monday"): TOO_LATE}
    when = {(name[r.person_id], r.campaign_step): r.sent_at for r in sent if r.sent_at}
    # everyone else gets it at 11:00 their time
    assert {who: local(when[(who, "monday")], who) for who in ("ams", "lon", "syd")} == {
        "ams": "Mon 11:00",
        "lon": "Mon 11:00",
        "syd": "Mon 11:00",
    }
    # the workshop-timed step: 24 hours before in Amsterdam, moved to the evening before for
    # whoever that is night-time for
    assert {who: local(when[(who, "crafting-eve")], who) for who in ZONES} == {
        "ams": "Mon 10:00",
        "lon": "Mon 09:00",
        "nyc": "Sun 19:00",
        "syd": "Mon 19:00",
    }
    # Tuesday 09:00 is too late in London and New York: the file allows earlier, so it goes
    # at 09:00 on Monday there
    assert {who: local(when[(who, "tuesday")], who) for who in ZONES} == {
        "ams": "Tue 09:00",
        "lon": "Mon 09:00",
        "nyc": "Mon 09:00",
        "syd": "Tue 09:00",
    }
    assert len(sent) == 4 * 5 - 1


def test_a_message_with_two_workshops_leaves_out_the_one_that_started(
    engine: Engine, team: dict[str, int]
) -> None:
    both = parse(
        FILE.replace("rsvp: [crafting]\n  - id: wrap", "rsvp: [energy, crafting]\n  - id: wrap")
    )
    launch_spec(engine, both, now=LAUNCH)
    run(engine, datetime(2026, 12, 8, 12, 0, tzinfo=UTC))
    rows = {r.person_id: r for r in campaign_rows(engine) if r.campaign_step == "tuesday"}
    # Sydney's Tuesday 09:00 is Monday 23:00 in Amsterdam: energy is over, crafting is not
    sydney = [reply_from_dict(p).text for p in rows[team["syd"]].payload]
    assert any("Crafting your job" in text for text in sydney)
    assert not any("What gives you energy?" in text for text in sydney)


def test_reminders_reach_attendees_at_good_local_times(
    engine: Engine, team: dict[str, int]
) -> None:
    campaign = launch_spec(engine, SPEC, now=LAUNCH)
    assert campaign.id is not None
    monday = datetime(2026, 12, 7, tzinfo=UTC)
    run(engine, monday + timedelta(hours=8))  # Sydney has the evening-before invitation
    eve = action_intent(campaign.id, "crafting-eve", "rsvp", "crafting")
    press(engine, team["syd"], eve, monday + timedelta(hours=8, minutes=5))
    run(engine, monday + timedelta(hours=10), start=monday + timedelta(hours=8, minutes=15))
    going = action_intent(campaign.id, "monday", "rsvp", "energy")
    press(engine, team["ams"], going, monday + timedelta(hours=10, minutes=5))
    run(engine, monday + timedelta(hours=14), start=monday + timedelta(hours=10, minutes=15))
    crafting = action_intent(campaign.id, "tuesday", "rsvp", "crafting")
    replies = press(engine, team["nyc"], crafting, monday + timedelta(hours=14, minutes=5))
    # the confirmation: day, time in the reader's own zone, and where
    assert "When: Tuesday 8 December, 04:00–05:00 (EST)" in replies[-2]  # then the calendar link
    assert "Where: Online" in replies[-2]
    end = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)
    run(engine, end, start=monday + timedelta(hours=14, minutes=15))
    reminders = sorted(
        (r for r in campaign_rows(engine) if (r.campaign_step or "").startswith(REMINDER)),
        key=lambda r: r.not_before,
    )
    name = {pid: who for who, pid in team.items()}
    assert all(r.kind == CARE_KIND and r.state == OutboxState.SENT for r in reminders)
    # the day-before reminders come before they signed up: only the 2-hour ones go, New
    # York's (02:00 there) the evening before
    assert [
        (name[r.person_id], r.campaign_step, local(r.not_before, name[r.person_id]))
        for r in reminders
    ] == [
        ("ams", "reminder-energy", "Mon 12:00"),
        ("nyc", "reminder-crafting", "Mon 19:00"),
        ("syd", "reminder-crafting", "Tue 18:00"),
    ]
    text = reply_from_dict(reminders[0].payload[0]).text
    assert "A quick reminder, Ams: you have a place at What gives you energy?" in text
    assert "When: Monday 7 December, 14:00–15:30 (CET)" in text
    # running it again sends nothing twice
    with Session(engine) as db:
        assert due_messages(db, CONTENT, now=monday + timedelta(hours=11), policy=POLICY) == []


def test_the_checks_before_launching_say_who_per_zone(engine: Engine, team: dict[str, int]) -> None:
    with Session(engine) as db:
        people = list(db.exec(select(Person).where(col(Person.email) != "hr@example.com")))
    lines = late_lines(SPEC, people, policy=POLICY, now=LAUNCH, content=CONTENT, lang="en")
    assert lines == [
        "America/New_York (1): step 'monday' at Mon 7 Dec 11:00 local time; energy starts Mon 7 "
        "Dec 08:00: skipped for them (it would arrive after the workshop started). nyc@example.com",
        "America/New_York (1): step 'tuesday' at Tue 8 Dec 09:00 local time; crafting starts Tue "
        "8 Dec 04:00: moved earlier, to Mon 7 Dec 09:00. nyc@example.com",
        "Europe/London (1): step 'tuesday' at Tue 8 Dec 09:00 local time; crafting starts Tue 8 "
        "Dec 09:00: moved earlier, to Mon 7 Dec 09:00. lon@example.com",
    ]
    dutch = late_lines(SPEC, people, policy=POLICY, now=LAUNCH, content=CONTENT, lang="nl")
    assert dutch[0] == (
        "America/New_York (1): stap ‘monday’ om ma 7 dec 11:00 plaatselijke tijd; energy begint "
        "ma 7 dec 08:00: vervalt voor hen (het bericht zou pas binnenkomen als de workshop al "
        "begonnen is). nyc@example.com"
    )
    assert "gaat eerder, op ma 7 dec 09:00" in dutch[2]
    assert missed_lines(SPEC, people, policy=POLICY, now=LAUNCH, content=CONTENT, lang="en") == []


def test_onboarding_launch_says_which_steps_recent_starters_missed(engine: Engine) -> None:
    from datetime import date

    onboarding = parse(
        """\
id: welcome
name: Welcome
owner: hr@example.com
start: start_date
steps:
  - {id: hello, day: 0, time: "10:00", message: "Welcome {first_name}!"}
  - {id: coffee, day: 4, time: "11:00", message: "Coffee with your buddy?"}
  - {id: later, day: 20, message: "Three weeks in!"}
"""
    )
    add_person(engine, "new@example.com", start_date=date(2026, 11, 30), timezone="Europe/London")
    with Session(engine) as db:
        people = list(db.exec(select(Person)))
    lines = missed_lines(onboarding, people, policy=POLICY, now=LAUNCH, content=CONTENT, lang="en")
    assert lines == [
        "step 'hello' (day 0): 1 recent starter joined after it and won't get it",
        "step 'coffee' (day 4): 1 recent starter joined after it and won't get it",
    ]
    add_person(engine, "later@example.com", start_date=date(2026, 12, 1), timezone="Europe/London")
    with Session(engine) as db:
        people = list(db.exec(select(Person)))
    dutch = missed_lines(onboarding, people, policy=POLICY, now=LAUNCH, content=CONTENT, lang="nl")
    assert dutch[0] == (
        "stap ‘hello’ (dag 0): 2 nieuwe collega’s begonnen daarna en krijgen hem niet"
    )


def test_invitations_keep_their_moment_out_of_calm(engine: Engine, team: dict[str, int]) -> None:
    launch_spec(engine, SPEC, now=LAUNCH)
    with Session(engine) as db:
        due = due_messages(db, CONTENT, now=datetime(2026, 12, 7, 0, 0, tzinfo=UTC), policy=POLICY)
        fixed, rest = keep_their_moment(db, due)
    assert {m.campaign_step for m in fixed} <= {"monday", "crafting-eve", "tuesday"}
    assert "monday" in {m.campaign_step for m in fixed}
    assert {m.campaign_step for m in rest} == {"kickoff"}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            'starts: "2026-12-07T14:00+01:00"\n    zone: Europe/Amsterdam',
            None,
        ),
        (
            'starts: "2026-12-07T14:00+02:00"\n    zone: Europe/Amsterdam',
            "the offset does not match Europe/Amsterdam on that day (UTC+1); write "
            "2026-12-07T14:00+01:00",
        ),
        (
            'starts: "2026-12-07T14:00+01:00"\n    zone: Europe/Amsterdm',
            "'Europe/Amsterdm' is not a time zone (e.g. Europe/Amsterdam)",
        ),
    ],
)
def test_a_workshop_zone_is_checked_against_its_offset(change: str, problem: str | None) -> None:
    text = FILE.replace('starts: "2026-12-07T14:00+01:00"\n    zone: Europe/Amsterdam', change)
    if problem is None:
        parse(text)
        return
    with pytest.raises(CampaignFileError) as error:
        parse(text)
    assert [p.message for p in error.value.problems] == [problem]


def test_a_step_has_a_day_or_a_workshop_moment_not_both() -> None:
    text = FILE.replace(
        "    workshop: crafting\n    before: 1d\n",
        "    workshop: crafting\n    before: 1d\n    day: 1\n",
    )
    with pytest.raises(CampaignFileError) as error:
        parse(text)
    assert [p.message for p in error.value.problems] == [
        "give either day (and an optional time) or workshop and before, not both"
    ]
    assert "steps[2]" in str(error.value)

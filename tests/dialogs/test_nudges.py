"""When nudges are due: local time across DST, working days, holidays, pauses, new hires,
experiments, catch-up after downtime, and a gentler rhythm for people who do not answer."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from dialogs.engine.calendar import NudgePolicy, slot
from dialogs.engine.content import load_content
from dialogs.engine.turn import Turn
from dialogs.nudges.rules import due_nudges
from storage.models import CheckIn, Experiment, Person
from storage.outbox import OutboxMessage, enqueue_many

POLICY = NudgePolicy()
WELCOMED = datetime(2026, 11, 9, 8, 0, tzinfo=UTC)  # Monday 9 November


def person(engine, **fields) -> Person:
    with Session(engine, expire_on_commit=False) as db:
        fields.setdefault("welcomed_at", WELCOMED)
        someone = Person(email=fields.pop("email", "sam@example.com"), name="Sam Jones", **fields)
        db.add(someone)
        db.commit()
        return someone


def due(engine, now: datetime) -> list:
    with Session(engine) as db:
        return due_nudges(db, load_content(), now=now, policy=POLICY)


def enqueue_all(engine, nudges) -> int:
    with Session(engine) as db:
        added = enqueue_many(db, nudges)
        db.commit()
        return added


@pytest.mark.parametrize(
    ("zone", "day", "expected_utc"),
    [
        ("Europe/Amsterdam", date(2026, 3, 27), datetime(2026, 3, 27, 8, 30, tzinfo=UTC)),  # CET
        ("Europe/Amsterdam", date(2026, 3, 30), datetime(2026, 3, 30, 7, 30, tzinfo=UTC)),  # CEST
        ("Europe/Amsterdam", date(2026, 10, 26), datetime(2026, 10, 26, 8, 30, tzinfo=UTC)),
        ("America/New_York", date(2026, 3, 6), datetime(2026, 3, 6, 14, 30, tzinfo=UTC)),  # EST
        ("America/New_York", date(2026, 3, 9), datetime(2026, 3, 9, 13, 30, tzinfo=UTC)),  # EDT
        ("America/New_York", date(2026, 11, 2), datetime(2026, 11, 2, 14, 30, tzinfo=UTC)),
    ],
)
def test_slots_are_local_time_across_daylight_saving(zone, day, expected_utc) -> None:
    someone = Person(
        email="x@example.com", name="X", timezone=zone, country="US" if "New" in zone else "NL"
    )
    assert slot(someone, day, POLICY) == expected_utc


def test_weekends_holidays_and_pauses_move_the_slot() -> None:
    dutch = Person(email="x@example.com", name="X", country="NL")
    assert slot(dutch, date(2026, 11, 28), POLICY).date() == date(
        2026, 11, 30
    )  # Saturday -> Monday
    assert slot(dutch, date(2026, 4, 27), POLICY).date() == date(2026, 4, 28)  # King's Day
    assert slot(dutch, date(2026, 12, 25), POLICY).date() == date(
        2026, 12, 28
    )  # Christmas, weekend
    paused = Person(
        email="y@example.com", name="Y", country="NL", nudge_paused_until=date(2026, 12, 9)
    )
    assert slot(paused, date(2026, 12, 1), POLICY).date() == date(2026, 12, 10)
    own_time = Person(
        email="z@example.com", name="Z", nudge_time="14:00", timezone="Europe/London", country="GB"
    )
    assert slot(own_time, date(2026, 12, 1), POLICY) == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    tuesdays = Person(email="w@example.com", name="W", country="NL")
    assert slot(tuesdays, date(2026, 12, 2), POLICY, weekday=1).date() == date(2026, 12, 8)


def test_a_check_in_nudge_comes_two_weeks_after_the_welcome_at_local_morning(engine) -> None:
    sam = person(engine)
    assert due(engine, datetime(2026, 11, 23, 8, 29, tzinfo=UTC)) == []  # 09:29 in Amsterdam
    [nudge] = due(engine, datetime(2026, 11, 23, 8, 30, tzinfo=UTC))
    assert (nudge.person_id, nudge.kind) == (sam.id, "checkin")
    assert nudge.payload[0]["kind"] == "offer"
    assert [intent for intent, _ in nudge.payload[0]["actions"]] == [
        "checkin",
        f"later:{nudge.key}",
        "pause",
    ]
    assert "Sam" in nudge.payload[0]["text"]


def test_firing_twice_or_all_day_enqueues_once(engine) -> None:
    person(engine)
    first = due(engine, datetime(2026, 11, 23, 8, 30, tzinfo=UTC))
    again = due(engine, datetime(2026, 11, 23, 8, 31, tzinfo=UTC))
    assert first[0].key == again[0].key
    assert enqueue_all(engine, first) == 1
    assert enqueue_all(engine, again) == 0
    # once nudged, nothing more is due that day or the next
    assert due(engine, datetime(2026, 11, 23, 15, 0, tzinfo=UTC)) == []
    assert due(engine, datetime(2026, 11, 24, 8, 30, tzinfo=UTC)) == []


def test_after_downtime_a_missed_nudge_comes_once_and_never_at_night(engine) -> None:
    person(engine)
    # down from 20 to 27 November: at 03:00 local nothing is sent
    assert due(engine, datetime(2026, 11, 27, 2, 0, tzinfo=UTC)) == []
    # back at 10:00 local: the missed check-in comes once, at today's slot
    [nudge] = due(engine, datetime(2026, 11, 27, 9, 0, tzinfo=UTC))
    assert nudge.due == datetime(2026, 11, 27, 8, 30, tzinfo=UTC)
    enqueue_all(engine, [nudge])
    assert due(engine, datetime(2026, 11, 27, 9, 1, tzinfo=UTC)) == []


def test_a_check_in_done_resets_the_clock_and_off_means_off(engine) -> None:
    sam = person(engine)
    with Session(engine) as db:
        db.add(
            CheckIn(person_id=sam.id, energy=4, created_at=datetime(2026, 11, 20, 12, tzinfo=UTC))
        )
        db.commit()
    assert due(engine, datetime(2026, 11, 23, 8, 30, tzinfo=UTC)) == []
    assert [n.kind for n in due(engine, datetime(2026, 12, 4, 8, 30, tzinfo=UTC))] == ["checkin"]
    person(engine, email="quiet@example.com", nudge_frequency="off")
    assert len(due(engine, datetime(2026, 12, 4, 8, 30, tzinfo=UTC))) == 1


def test_two_unanswered_nudges_make_the_rhythm_gentler(engine) -> None:
    person(engine, nudge_frequency="weekly")
    sent = 0
    day = datetime(2026, 11, 16, 8, 30, tzinfo=UTC)
    seen_days = []
    while day < datetime(2027, 1, 31, tzinfo=UTC):
        nudges = [n for n in due(engine, day) if n.kind == "checkin"]
        if nudges:
            sent += enqueue_all(engine, nudges)
            seen_days.append(day.date())
        day += timedelta(days=1)
    gaps = [(b - a).days for a, b in itertools.pairwise(seen_days)]
    assert gaps[0] == 7  # the first two come weekly
    assert all(gap >= 14 for gap in gaps[1:])  # then unanswered: every other week at most


def test_new_hires_get_check_ins_after_a_week_a_month_and_three_months(engine) -> None:
    person(engine, start_date=date(2026, 11, 16), nudge_frequency="monthly")
    kinds = []
    day = datetime(2026, 11, 16, 8, 30, tzinfo=UTC)
    while day < datetime(2027, 3, 1, tzinfo=UTC):
        for nudge in due(engine, day):
            if nudge.kind.startswith("onboarding"):
                kinds.append((nudge.kind, nudge.due.date()))
            enqueue_all(engine, [nudge])
        day += timedelta(days=1)
    assert [k for k, _ in kinds] == ["onboarding_7", "onboarding_30", "onboarding_91"]
    assert kinds[0][1] == date(2026, 11, 23)


def test_experiment_nudges_planned_date_missing_reflection_and_follow_up(engine) -> None:
    sam = person(engine, nudge_frequency="monthly")
    with Session(engine) as db:
        db.add(
            Experiment(
                person_id=sam.id,
                title="Shadow finance",
                planned_date=date(2026, 11, 19),
                created_at=WELCOMED,
            )
        )
        db.add(
            Experiment(
                person_id=sam.id,
                title="Teach Excel",
                status="done",
                done_at=datetime(2026, 11, 13, 12, tzinfo=UTC),
                created_at=WELCOMED,
            )
        )
        db.add(
            Experiment(
                person_id=sam.id,
                title="Swap a task",
                status="done",
                learned="Ask early",
                done_at=datetime(2026, 8, 21, 12, tzinfo=UTC),
                created_at=WELCOMED,
            )
        )
        db.commit()
    found = []
    day = datetime(2026, 11, 16, 8, 30, tzinfo=UTC)
    for _ in range(14):
        for nudge in due(engine, day):
            found.append(nudge.kind)
            enqueue_all(engine, [nudge])
        day += timedelta(days=1)
    assert {"experiment_due", "experiment_reflect", "experiment_followup"} <= set(found)
    assert found.count("experiment_due") == 1


def test_nobody_unwelcomed_or_deleted_is_nudged(engine) -> None:
    person(engine, welcomed_at=None)
    assert due(engine, datetime(2026, 12, 23, 8, 30, tzinfo=UTC)) == []


def test_the_home_screen_shows_the_day_the_scheduler_will_nudge(engine) -> None:
    from dialogs.flows.home import build_summary

    sam = person(engine, nudge_paused_until=date(2026, 11, 24))
    with Session(engine) as db:
        home = build_summary(db, load_content(), db.get(Person, sam.id), today=date(2026, 11, 20))
    assert "25 Nov 2026" in home.next_checkin  # after the pause, on a working day
    assert due(engine, datetime(2026, 11, 24, 8, 30, tzinfo=UTC)) == []
    assert [n.kind for n in due(engine, datetime(2026, 11, 25, 8, 30, tzinfo=UTC))] == ["checkin"]


# -- "remind me later" (issue 14, item 11) ----------------------------------------------------

LATER_TEXTS = {
    "en": ("Remind me later", "Sure! I'll remind you at 14:00.", "on Tuesday at 09:30"),
    "nl": (
        "Herinner me later",
        "Goed! Ik herinner je er om 14:00 nog even aan.",
        "dinsdag om 09:30",
    ),
}


@pytest.fixture
def later_runtime(engine):
    """The runtime as wired ("remind me later" is ``DIALOG_INTENTS["later"]``), on an injected
    clock."""
    from dialogs.engine.runtime import Runtime
    from dialogs.registry import DIALOGS

    clock = {"now": WELCOMED}
    runtime = Runtime(engine, dialogs=DIALOGS, content=load_content(), clock=lambda: clock["now"])
    return runtime, clock


def _calm_enqueue(engine, now: datetime) -> None:
    from dialogs.nudges.calm import CalmPolicy, calm

    with Session(engine) as db:
        enqueue_many(
            db, calm(db, due_nudges(db, load_content(), now=now, policy=POLICY), now, CalmPolicy())
        )
        db.commit()


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_remind_me_later_brings_the_check_in_back_that_afternoon_once(
    engine, later_runtime, lang: str
) -> None:
    """Through the console: the check-in nudge's [b] brings it back at 14:00 the same day,
    without that button; pressing it again, or later, does not bring a third."""
    import io

    from bot.channels.console import ConsoleChannel
    from storage.models import Outbound

    runtime, clock = later_runtime
    label, said, _ = LATER_TEXTS[lang]
    sam = person(engine, language=lang)
    morning = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)  # Monday 09:30 in Amsterdam
    _calm_enqueue(engine, morning)
    clock["now"] = morning + timedelta(minutes=20)
    out = io.StringIO()
    console = ConsoleChannel(runtime, sam.id, out, json_mode=False)
    console.show_inbox()
    assert f"  [b] {label}" in out.getvalue()
    replies = console.send("b")
    assert replies[0].text == said
    with Session(engine) as db:
        again = db.exec(select(Outbound).where(Outbound.idempotency_key.endswith(":later"))).one()
    assert again.not_before == datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
    assert again.kind == "checkin" and again.state == "pending"
    assert "later:" not in str(again.payload)  # once: the copy has no "remind me later"
    assert console.send("b")[0].text != said  # the nudge was answered: [b] is spent
    press = Turn(person_id=sam.id, intent=f"later:checkin:{sam.id}:2026-11-23")
    assert runtime.handle(press)[0].text == load_content().text(lang, "calm.later.once")

    clock["now"] = datetime(2026, 11, 23, 13, 5, tzinfo=UTC)
    afternoon = io.StringIO()
    ConsoleChannel(runtime, sam.id, afternoon, json_mode=False).show_inbox()
    shown = afternoon.getvalue()
    assert shown.startswith(load_content().greeting(lang, 14))  # "Good afternoon Sam!"
    assert label not in shown


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_remind_me_later_respects_calm(engine, later_runtime, lang: str) -> None:
    """With the afternoon already taken, "later" is the next free slot, and it says when."""
    from dialogs.nudges.calm import CalmPolicy, calm

    runtime, clock = later_runtime
    _, _, when = LATER_TEXTS[lang]
    sam = person(engine, language=lang)
    morning = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
    _calm_enqueue(engine, morning)
    taken = OutboxMessage("digest:x", sam.id, "digest", datetime(2026, 11, 23, 15, tzinfo=UTC), [])
    with Session(engine) as db:
        enqueue_many(db, calm(db, [taken], morning, CalmPolicy()))
        db.commit()
    clock["now"] = morning + timedelta(minutes=20)
    [reply] = runtime.handle(Turn(person_id=sam.id, intent=f"later:checkin:{sam.id}:2026-11-23"))
    assert when in reply.text


def test_remind_me_later_only_for_the_persons_own_check_in(engine, later_runtime) -> None:
    runtime, clock = later_runtime
    sam = person(engine)
    other = person(engine, email="kim@example.com")
    _calm_enqueue(engine, datetime(2026, 11, 23, 8, 30, tzinfo=UTC))
    clock["now"] = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    unknown = load_content().text("en", "calm.later.unknown")
    for who, key in ((other.id, f"checkin:{sam.id}:2026-11-23"), (sam.id, "nonsense")):
        assert runtime.handle(Turn(person_id=who, intent=f"later:{key}"))[0].text == unknown


# -- imported new hires: onboarding without saying hi first (issue 14, item 12) ---------------

WELCOME_FIRST = {
    "en": ("Good morning Noor, I'm Regie", "at least 5", "You've been with us a week, Noor!"),
    "nl": ("Goedemorgen Noor, ik ben Regie", "minstens 5", "Je bent hier nu een week, Noor!"),
}


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_an_imported_new_hire_gets_the_welcome_then_the_first_check_in(engine, lang: str) -> None:
    from dialogs.engine.replies import reply_from_dict
    from dialogs.nudges.rules import welcome_delivered
    from storage.models import ConsentRecord, Outbound

    hello, promise, onboarding = WELCOME_FIRST[lang]
    with Session(engine) as db:
        noor = Person(
            email="noor@example.com",
            name="Noor de Vries",
            language=lang,
            start_date=date(2026, 11, 16),
            slack_user_id="U-NOOR",
        )
        db.add(noor)
        db.commit()
        noor_id = noor.id
    assert due(engine, datetime(2026, 11, 20, 8, 30, tzinfo=UTC)) == []  # not before a week
    [nudge] = due(engine, datetime(2026, 11, 23, 8, 30, tzinfo=UTC))  # only the onboarding
    assert nudge.kind == "onboarding_7"
    texts = [reply_from_dict(data).text for data in nudge.payload]
    assert texts[0].startswith(hello) and promise in texts[1] and texts[2].startswith(onboarding)

    enqueue_all(engine, [nudge])
    with Session(engine) as db:
        row = db.exec(select(Outbound).where(Outbound.idempotency_key == nudge.key)).one()
        row.state, row.sent_at = "sent", nudge.due
        assert welcome_delivered(db, [row], now=nudge.due) == 1
        db.commit()
    with Session(engine) as db:
        welcomed = db.get(Person, noor_id)
        assert welcomed is not None and welcomed.welcomed_at is not None
        consent = db.exec(select(ConsentRecord).where(ConsentRecord.person_id == noor_id)).one()
        assert consent.kind == "privacy_notice"
    later = [
        n
        for n in due(engine, datetime(2026, 12, 16, 8, 30, tzinfo=UTC))
        if n.kind == "onboarding_30"
    ]
    assert len(later[0].payload) == 1  # welcomed: no second welcome


def test_only_new_hires_the_bot_can_write_to_first_are_nudged_unwelcomed(engine) -> None:
    from storage.addresses import save_address

    at = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
    with Session(engine) as db:
        for email, fields in (
            ("console@example.com", {}),
            ("teams@example.com", {}),
            ("nostart@example.com", {"slack_user_id": "U-OLD", "start_date": None}),
        ):
            fields.setdefault("start_date", date(2026, 11, 16))
            db.add(Person(email=email, name="X Y", **fields))
        db.commit()
        teams = db.exec(select(Person).where(Person.email == "teams@example.com")).one()
        assert teams.id is not None
        teams_id = teams.id
    assert due(engine, at) == []  # console only, or no start date: they say hi first
    with Session(engine) as db:
        save_address(db, teams_id, "teams", {"conversation": {"id": "a:1"}}, now=at)
        db.commit()
    assert [(n.person_id, n.kind) for n in due(engine, at)] == [(teams_id, "onboarding_7")]

"""Calm: at most one message from the bot per person per half-day, across nudges, digests and
campaign steps; the rest folded in ("Also: …" with its button) or moved, never lost. The rules
run at injected instants: ``calm`` directly, and through ``enqueue_due_calmly``, the scheduler's
job as ``bot/jobs.py`` runs it with calm (nudges, then campaign messages, then digests, each in
its own transaction), for a simulated month of a manager in a growth week."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dialogs.campaigns.launch import launch, plan_launch
from dialogs.campaigns.planner import due_messages
from dialogs.campaigns.spec import parse
from dialogs.engine.calendar import NudgePolicy
from dialogs.engine.content import load_content
from dialogs.engine.replies import Offer, reply_from_dict
from dialogs.nudges.calm import FOLDED_INTO, MOVED_TO, CalmPolicy, calm, importance
from dialogs.nudges.digest import due_digests
from dialogs.nudges.rules import due_nudges, welcome_delivered
from storage.models import Experiment, Outbound, OutboxState, Person, Role
from storage.outbox import OutboxMessage, claim_due, enqueue_many, mark_sent

ROOT = Path(__file__).resolve().parents[2]
CONTENT = load_content()
POLICY = NudgePolicy()
CALM = CalmPolicy()
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def local(day: date, clock: str) -> datetime:
    hours, minutes = (int(part) for part in clock.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=AMSTERDAM).astimezone(UTC)


def add(engine: Engine, email: str, **fields: Any) -> int:
    with Session(engine) as db:
        fields.setdefault("name", email.split("@")[0].capitalize() + " Example")
        person = Person(email=email, **fields)
        db.add(person)
        db.commit()
        assert person.id is not None
        return person.id


def enqueue_due_calmly(engine: Engine, now: datetime, policy: CalmPolicy = CALM) -> int:
    """``bot/jobs.py``'s ``enqueue_due`` with calm applied to each group it gathers."""
    with Session(engine) as db:
        nudges = due_nudges(db, CONTENT, now=now, policy=POLICY)
        added = enqueue_many(db, calm(db, nudges, now, policy))
        db.commit()
    with Session(engine) as db:
        messages = due_messages(db, CONTENT, now=now, policy=POLICY)
        added += enqueue_many(db, calm(db, messages, now, policy))
        db.commit()
    with Session(engine) as db:
        digests = due_digests(db, CONTENT, now=now, min_group=5, nothing_new_note=True)
        added += enqueue_many(db, calm(db, digests, now, policy))
        db.commit()
    return added


def deliver(engine: Engine, now: datetime) -> int:
    """The delivery worker, succeeding: every due message is sent now (and a welcome that
    went welcomes its reader, as ``bot/delivery.py`` is to do)."""
    with Session(engine) as db:
        claimed = claim_due(db, now=now, limit=1000)
        rows = []
        for message in claimed:
            row = db.get(Outbound, message.id)
            assert row is not None
            mark_sent(row, channel="slack", now=now)
            db.add(row)
            rows.append(row)
        welcome_delivered(db, rows, now=now)
        db.commit()
        return len(claimed)


def outbox(engine: Engine, person_id: int | None = None) -> list[Outbound]:
    with Session(engine) as db:
        query = select(Outbound).order_by(col(Outbound.created_at), col(Outbound.id))
        if person_id is not None:
            query = query.where(Outbound.person_id == person_id)
        return list(db.exec(query))


def offers(row: Outbound) -> list[Offer]:
    return [r for r in map(reply_from_dict, row.payload) if isinstance(r, Offer)]


def half_day(at: datetime, zone: str = "Europe/Amsterdam") -> tuple[date, str]:
    moment = at.astimezone(ZoneInfo(zone))
    return moment.date(), "am" if moment.hour < 13 else "pm"


# -- the rules, one at a time ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "also", "button"),
    [
        ("en", "Also: a short reflection", "Reflect now"),
        ("nl", "Ook: even stilstaan bij je werk", "Nu reflecteren"),
    ],
)
def test_a_check_in_and_a_reflection_due_together_are_one_message(
    engine: Engine, lang: str, also: str, button: str
) -> None:
    """The new hire's "three nudges in three minutes": now one message, the rest folded in."""
    sam = add(
        engine,
        "sam@example.com",
        language=lang,
        nudge_frequency="weekly",
        welcomed_at=datetime(2026, 11, 9, 8, 0, tzinfo=UTC),
    )
    now = local(date(2026, 12, 9), "09:30")  # Wednesday: a check-in and a reflection are due
    with Session(engine) as db:
        due = due_nudges(db, CONTENT, now=now, policy=POLICY)
        assert [n.kind for n in due] == ["checkin", "reflection"]
        enqueue_many(db, calm(db, due, now, CALM))
        db.commit()
    checkin, reflection = outbox(engine, sam)
    assert checkin.kind == "checkin" and checkin.state == OutboxState.PENDING
    assert reflection.state == OutboxState.SKIPPED
    assert reflection.last_error == FOLDED_INTO + checkin.idempotency_key
    _main, folded = offers(checkin)
    assert folded.text.startswith(also)
    assert [label for _, label in folded.actions] == [button]
    assert [intent for intent, _ in folded.actions] == ["reflect"]
    # later the same day, and the next minute: nothing more
    for later in (now + timedelta(minutes=1), now + timedelta(hours=5)):
        assert enqueue_due_calmly(engine, later) == 0


def test_an_onboarding_check_in_covers_the_check_in_without_an_extra_line(engine: Engine) -> None:
    """A folded message whose button the message already has adds no line: it is covered."""
    alex = add(
        engine,
        "alex@example.com",
        start_date=date(2026, 11, 23),
        welcomed_at=datetime(2026, 11, 16, 8, 0, tzinfo=UTC),
    )
    now = local(date(2026, 11, 30), "09:30")  # a week in; a fortnight after the welcome
    assert enqueue_due_calmly(engine, now) == 2
    onboarding, checkin = outbox(engine, alex)
    assert (onboarding.kind, checkin.kind) == ("onboarding_7", "checkin")
    assert checkin.last_error == FOLDED_INTO + onboarding.idempotency_key
    assert len(offers(onboarding)) == 1  # "Check in now" is already there


@pytest.mark.parametrize(("lang", "greeting"), [("en", "Good afternoon"), ("nl", "Goedemiddag")])
def test_a_nudge_after_a_message_that_went_moves_to_the_afternoon(
    engine: Engine, lang: str, greeting: str
) -> None:
    sam = add(
        engine,
        "sam@example.com",
        language=lang,
        welcomed_at=datetime(2026, 11, 9, 8, 0, tzinfo=UTC),
    )
    morning = local(date(2026, 11, 23), "09:00")
    with Session(engine) as db:
        enqueue_many(db, [OutboxMessage("system-ish", sam, "digest", morning, [])])
        db.commit()
    deliver(engine, morning)
    now = local(date(2026, 11, 23), "09:30")
    enqueue_due_calmly(engine, now)
    [_, checkin] = outbox(engine, sam)
    assert checkin.state == OutboxState.PENDING
    assert checkin.created_at == local(date(2026, 11, 23), "14:00")
    assert offers(checkin)[0].text.startswith(f"{greeting} Sam!")
    assert deliver(engine, now + timedelta(hours=2)) == 0
    assert deliver(engine, local(date(2026, 11, 23), "14:00")) == 1
    assert enqueue_due_calmly(engine, local(date(2026, 11, 24), "09:30")) == 0  # done


def test_a_more_important_message_takes_the_place_of_a_waiting_one(engine: Engine) -> None:
    """A moved nudge waits for 14:00; a campaign step for 13:00 takes the afternoon and the
    nudge folds into it. A waiting digest that cannot fold moves on, as a copy."""
    sam = add(engine, "sam@example.com", welcomed_at=datetime(2026, 11, 9, 8, 0, tzinfo=UTC))
    day = date(2026, 11, 24)
    nudge = due_nudges_at(engine, local(date(2026, 11, 23), "09:30"))[0]
    waiting = [
        OutboxMessage("moved-nudge", sam, "checkin", local(day, "14:00"), nudge.payload),
        OutboxMessage(
            "digest:1:x", sam, "digest", local(day, "15:00"), [{"kind": "say", "text": "Hi"}]
        ),
    ]
    with Session(engine) as db:
        enqueue_many(db, waiting)
        db.commit()
    now = local(day, "13:00")
    step = OutboxMessage(
        "campaign:gw:reminder:1",
        sam,
        "campaign",
        now,
        [
            {
                "kind": "offer",
                "text": "Still time to join",
                "actions": [["campaign:1:r:interested", "Yes"]],
            }
        ],
        campaign_id=None,
        campaign_step="reminder",
    )
    with Session(engine) as db:
        placed = calm(db, [step], now, CALM)
        enqueue_many(db, placed)
        db.commit()
    rows = {row.idempotency_key: row for row in outbox(engine, sam)}
    assert rows["moved-nudge"].last_error == FOLDED_INTO + step.key
    assert rows["digest:1:x"].state == OutboxState.SKIPPED
    copy_key = (rows["digest:1:x"].last_error or "").removeprefix(MOVED_TO)
    assert copy_key.startswith("digest:1:x@2026-11-25")
    assert rows[copy_key].state == OutboxState.PENDING
    going = rows[step.key]
    assert [o.text for o in offers(going)][1].startswith("Also: a quick check-in")


def test_a_campaign_step_keeps_its_day(engine: Engine) -> None:
    """A second step in a taken morning goes at 13:00 that day; with both halves taken it
    still goes on its day, at its own time."""
    sam = add(engine, "sam@example.com", welcomed_at=datetime(2026, 11, 9, 8, 0, tzinfo=UTC))
    day = date(2026, 12, 7)
    now = local(day, "08:00") - timedelta(days=1)

    def step(name: str, clock: str) -> OutboxMessage:
        text = {"kind": "offer", "text": f"Good morning Sam! {name}", "actions": []}
        return OutboxMessage(
            f"campaign:gw:{name}:{sam}", sam, "campaign", local(day, clock), [text]
        )

    with Session(engine) as db:
        for message in (step("kickoff", "09:30"), step("monday", "11:00"), step("extra", "12:00")):
            enqueue_many(db, calm(db, [message], now, CALM))
            db.commit()
    rows = {row.idempotency_key.split(":")[2]: row for row in outbox(engine, sam)}
    kickoff, monday, extra = rows["kickoff"], rows["monday"], rows["extra"]
    assert kickoff.created_at == local(day, "09:30")
    assert monday.created_at == local(day, "13:00")
    assert offers(monday)[0].text.startswith("Good afternoon Sam!")
    assert extra.created_at == local(day, "12:00")  # HR planned three: the third keeps its time
    assert {r.state for r in (kickoff, monday, extra)} == {OutboxState.PENDING}


def test_importance_campaign_digest_onboarding_checkin_reflection() -> None:
    kinds = ["reflection", "checkin", "experiment_due", "onboarding_7", "digest", "campaign"]
    assert sorted(kinds, key=importance, reverse=True) == [
        "campaign",
        "digest",
        "experiment_due",
        "onboarding_7",
        "checkin",
        "reflection",
    ]


def test_calm_off_sends_one_nudge_at_a_time_and_everything_else_as_planned(engine: Engine) -> None:
    sam = add(
        engine,
        "sam@example.com",
        nudge_frequency="weekly",
        welcomed_at=datetime(2026, 11, 9, 8, 0, tzinfo=UTC),
    )
    now = local(date(2026, 12, 9), "09:30")
    digest = OutboxMessage("digest:x", sam, "digest", now, [{"kind": "say", "text": "Hi"}])
    with Session(engine) as db:
        due = due_nudges(db, CONTENT, now=now, policy=POLICY)
        kept = calm(db, [*due, digest], now, CalmPolicy(enabled=False))
    assert [m.kind for m in kept] == ["checkin", "digest"]


def due_nudges_at(engine: Engine, now: datetime) -> list[OutboxMessage]:
    with Session(engine) as db:
        return due_nudges(db, CONTENT, now=now, policy=POLICY)


# -- a simulated month -----------------------------------------------------------------------

MONTH_START = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)  # the Monday before the growth week
MONTH_END = datetime(2026, 12, 31, 0, 0, tzinfo=UTC)
TICK = timedelta(minutes=15)


def growth_week_world(engine: Engine) -> dict[str, int]:
    """A manager in a growth week: weekly check-ins, a monthly reflection, an experiment
    planned for the weekend before, a weekly digest (with a note when nothing is new); two
    reports, a new hire welcomed a week ago and an imported new hire nobody welcomed yet; and
    the example growth week campaign for everyone."""
    hr = add(engine, "priya.shah@example.com", name="Priya Shah", role=Role.HR)
    manager = add(
        engine,
        "marieke@example.com",
        name="Marieke Jansen",
        language="nl",
        role=Role.MANAGER,
        nudge_frequency="weekly",
        welcomed_at=datetime(2026, 10, 26, 9, 0, tzinfo=UTC),
    )
    alex = add(
        engine,
        "alex@example.com",
        name="Alex Example",
        manager_id=manager,
        start_date=date(2026, 11, 23),
        welcomed_at=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
    )
    noor = add(
        engine,
        "noor@example.com",
        name="Noor de Vries",
        language="nl",
        manager_id=manager,
        start_date=date(2026, 11, 30),
        slack_user_id="U-NOOR",
    )
    with Session(engine, expire_on_commit=False) as db:
        db.add(
            Experiment(
                person_id=manager,
                title="Een dag meelopen met finance",
                planned_date=date(2026, 12, 6),
                created_at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
            )
        )
        spec = parse((ROOT / "campaigns" / "growth-week.yaml").read_text(encoding="utf-8"))
        owner = db.get(Person, hr)
        assert owner is not None
        launch(
            db,
            CONTENT,
            plan_launch(db, spec, now=MONTH_START),
            owner=owner,
            now=MONTH_START,
            policy=POLICY,
        )
        db.commit()
    return {"hr": hr, "manager": manager, "alex": alex, "noor": noor}


def test_a_simulated_month_of_a_manager_in_a_growth_week(engine: Engine) -> None:
    """Every 15 minutes of a month the real rules run (nudges, campaign, digests, calm) and
    the worker delivers what is due. Per person per half-day at most one message is sent, and
    nothing is lost: every message written is sent, folded into one that was sent, or moved
    on to a copy that was (or is still waiting, past the month)."""
    people = growth_week_world(engine)
    now = MONTH_START
    while now < MONTH_END:
        enqueue_due_calmly(engine, now)
        deliver(engine, now)
        now += TICK
    rows = outbox(engine)
    by_key = {row.idempotency_key: row for row in rows}

    sent = [row for row in rows if row.state == OutboxState.SENT]
    when = {row.idempotency_key: row.sent_at or row.created_at for row in sent}
    per_half_day = Counter((row.person_id, half_day(when[row.idempotency_key])) for row in sent)
    crowded = {key: n for key, n in per_half_day.items() if n > 1}
    assert crowded == {}, crowded

    def arrives(row: Outbound, seen: int = 0) -> bool:
        """Sent, or waiting beyond the month, itself or whatever it was folded into or moved to."""
        assert seen < 50
        if row.state == OutboxState.SENT:
            return True
        if row.state == OutboxState.PENDING:
            return row.not_before >= MONTH_END
        note = row.last_error or ""
        for marker in (FOLDED_INTO, MOVED_TO):
            if note.startswith(marker):
                return arrives(by_key[note.removeprefix(marker)], seen + 1)
        return False

    lost = [(row.idempotency_key, row.state, row.last_error) for row in rows if not arrives(row)]
    assert lost == []

    # The growth week's Monday for the manager: the kick-off in the morning, the day's workshop
    # in the afternoon (its day kept); the digest and the experiment reminder went later.
    manager = people["manager"]
    monday = date(2026, 12, 7)
    that_day = sorted(
        (when[row.idempotency_key], row.campaign_step or row.kind)
        for row in sent
        if row.person_id == manager and half_day(when[row.idempotency_key])[0] == monday
    )
    assert [what for _, what in that_day] == ["kickoff", "monday"]
    kinds = Counter(row.campaign_step or row.kind for row in sent if row.person_id == manager)
    assert kinds["digest"] >= 4 and kinds["experiment_due"] + folded(rows, "experiment_due") == 1
    steps = {row.campaign_step for row in sent if row.person_id == manager and row.campaign_step}
    assert {"kickoff", "monday", "tuesday", "wednesday", "try-something", "thursday"} <= steps
    assert {"friday", "wrap-up"} <= steps
    for row in sent:  # every campaign step went on its day (moved, if at all, within it)
        if row.campaign_step:
            assert (
                row.sent_at is not None and half_day(row.sent_at)[0] == half_day(row.created_at)[0]
            )

    # The imported new hire's first onboarding check-in came with the welcome, in Dutch; that
    # welcomed her: the next one comes without it, and her own check-ins start.
    noor = {
        row.kind: row for row in sent if row.person_id == people["noor"] and not row.campaign_step
    }
    first = [reply_from_dict(data).text for data in noor["onboarding_7"].payload]
    assert first[0].startswith(("Goedemorgen Noor, ik ben Regie", "Goedemiddag Noor, ik ben Regie"))
    assert first[1].startswith("Eerst even hoe ik omga met wat je me vertelt")
    assert first[2].startswith("Je bent hier nu een week, Noor!")
    assert len(noor["onboarding_30"].payload) == 1


def folded(rows: list[Outbound], kind: str) -> int:
    return sum(
        1 for row in rows if row.kind == kind and (row.last_error or "").startswith(FOLDED_INTO)
    )


def test_a_retention_notice_keeps_its_moment_and_takes_its_half_day(engine: Engine) -> None:
    sam = add(engine, "sam@example.com", welcomed_at=datetime(2026, 11, 9, 8, 0, tzinfo=UTC))
    day = date(2026, 11, 23)
    notice = {"kind": "offer", "text": "Heads-up about your data", "actions": []}
    waiting = OutboxMessage("checkin:moved", sam, "checkin", local(day, "14:00"), [notice])
    with Session(engine) as db:
        enqueue_many(db, [waiting])
        db.commit()
    now = local(day, "09:30")
    fixed = OutboxMessage(f"retention:{sam}:x", sam, "retention", local(day, "14:00"), [notice])
    with Session(engine) as db:
        [kept, moved] = calm(db, [fixed], now, CALM)
        enqueue_many(db, [kept, moved])
        db.commit()
    assert kept.key == fixed.key and kept.due == fixed.due  # its moment is a promise
    assert moved.key == "checkin:moved@2026-11-24-am"  # the waiting nudge makes room
    later = OutboxMessage("reflection:x", sam, "reflection", local(day, "14:05"), [notice])
    with Session(engine) as db:
        [placed] = calm(db, [later], now, CALM)
    assert placed.due == local(date(2026, 11, 24), "14:05")  # its own clock, a day on

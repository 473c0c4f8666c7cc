"""When to nudge whom: every nudge that is due at an instant, computed from each person's
settings and history.

A nudge is due at a *slot*: the person's preferred local time (IANA zone, so daylight saving is
handled) on a working day — not a weekend, not a public holiday of their country, not inside
their pause. Periodic nudges (check-in, reflection) come one interval after the last time the
person did that thing or was nudged for it; someone who left the last two nudges unanswered
gets a gentler rhythm (twice the interval) until they engage again. One-off nudges follow new
hires (1 week, 1 month, 3 months after their start) and experiments (the planned date, a
missing reflection, a follow-up three months on). Each nudge has an idempotency key naming its
slot, so computing twice, or after downtime, enqueues it once; a slot missed for longer than
the grace period is not sent late, the next one is used instead.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from dialogs.engine.calendar import (
    PERIODIC_DAYS,
    Nudgeable,
    NudgePolicy,
    slot,
)
from dialogs.engine.content import Content
from dialogs.engine.replies import Offer, reply_to_dict
from dialogs.engine.text import shorten
from storage.models import (
    Answer,
    CheckIn,
    DialogSession,
    Experiment,
    ExperimentStatus,
    Outbound,
    Person,
)
from storage.outbox import OutboxMessage
from storage.people import first_name

REFLECTION_DAYS = 30
ONBOARDING_DAYS = (7, 30, 91)
UNANSWERED_BEFORE_GENTLE = 2
LATEST_LOCAL_HOUR = 20
"""A nudge that is late (after downtime) still goes out the same day, but never after 20:00."""


@dataclass
class _History:
    last_checkin: dict[int, datetime] = field(default_factory=dict)
    last_reflection: dict[int, datetime] = field(default_factory=dict)
    last_seen: dict[int, datetime] = field(default_factory=dict)
    nudged: dict[tuple[int, str], datetime] = field(default_factory=dict)
    nudge_times: dict[int, list[datetime]] = field(default_factory=lambda: defaultdict(list))
    keys: set[str] = field(default_factory=set)
    experiments: dict[int, list[Experiment]] = field(default_factory=lambda: defaultdict(list))


@dataclass(frozen=True, slots=True)
class _Row:
    id: int | None
    name: str
    language: str
    timezone: str
    country: str
    nudge_frequency: str
    nudge_paused_until: date | None
    nudge_weekday: int | None
    nudge_time: str | None
    start_date: date | None
    welcomed_at: datetime | None


_ROW_COLUMNS = [getattr(Person, name) for name in _Row.__slots__]


def _due_now(at: datetime, local_now: datetime, now: datetime, policy: NudgePolicy) -> bool:
    if at > now or now - at > policy.grace:
        return False
    return local_now.hour < LATEST_LOCAL_HOUR


def _history(db: Session, now: datetime) -> _History:
    history = _History()
    for person_id, at in db.exec(
        select(CheckIn.person_id, func.max(CheckIn.created_at)).group_by(col(CheckIn.person_id))
    ):
        history.last_checkin[person_id] = at
    reflections = select(Answer.person_id, func.max(Answer.created_at)).where(
        Answer.dialog_id == "reflection"
    )
    for person_id, at in db.exec(reflections.group_by(col(Answer.person_id))):
        history.last_reflection[person_id] = at
    seen = select(DialogSession.person_id, func.max(DialogSession.updated_at)).group_by(
        col(DialogSession.person_id)
    )
    for person_id, at in db.exec(seen):
        history.last_seen[person_id] = at
    recent = (
        select(Outbound.person_id, Outbound.kind, Outbound.created_at, Outbound.idempotency_key)
        .where(Outbound.created_at >= now - timedelta(days=400))
        .where(col(Outbound.campaign_id).is_(None))  # HR's campaigns are not the person's rhythm
    )
    for person_id, kind, at, key in db.exec(recent):
        history.keys.add(key)
        of_kind = (person_id, kind)
        if of_kind not in history.nudged or at > history.nudged[of_kind]:
            history.nudged[of_kind] = at
        history.nudge_times[person_id].append(at)
    open_or_recent = select(Experiment).where(
        or_(
            col(Experiment.status).in_([ExperimentStatus.PLANNED, ExperimentStatus.DOING]),
            and_(
                col(Experiment.status) == ExperimentStatus.DONE,
                col(Experiment.done_at) >= now - timedelta(days=125),
            ),
        )
    )
    for experiment in db.exec(open_or_recent):
        history.experiments[experiment.person_id].append(experiment)
    return history


def due_nudges(
    db: Session, content: Content, *, now: datetime, policy: NudgePolicy
) -> list[OutboxMessage]:
    """Every nudge due at ``now``, for ``storage.outbox.enqueue_many``: at most one per person
    (the most specific), so nobody gets two messages at once."""
    history = _history(db, now)
    rows = (
        db.connection()
        .execute(select(*_ROW_COLUMNS).where(col(Person.welcomed_at).is_not(None)))
        .all()
    )
    local: dict[str, datetime] = {}  # the local "now" per time zone, computed once
    found: list[OutboxMessage] = []
    for values in rows:
        person = _Row(*values)
        if person.nudge_frequency == "off" or person.id is None:
            continue
        if person.timezone not in local:
            local[person.timezone] = now.astimezone(ZoneInfo(person.timezone))
        nudge = _for_person(person, history, content, now, local[person.timezone], policy)
        if nudge is not None:
            found.append(nudge)
    return found


def _for_person(
    person: Nudgeable,
    history: _History,
    content: Content,
    now: datetime,
    local_now: datetime,
    policy: NudgePolicy,
) -> OutboxMessage | None:
    assert person.id is not None and person.welcomed_at is not None
    pid = person.id
    today = local_now.date()
    candidates: list[tuple[str, str, date, dict[str, str], int | None]] = []
    for experiment in history.experiments.get(pid, []):
        candidates += _experiment_candidates(experiment, today)
    if person.start_date is not None:
        for days in ONBOARDING_DAYS:
            target = person.start_date + timedelta(days=days)
            if target <= today <= target + timedelta(days=14):
                candidates.append(
                    (f"onboarding_{days}", f"onboarding:{pid}:{days}", target, {}, None)
                )
    last_seen = history.last_seen.get(pid)
    unanswered = sum(
        1 for at in history.nudge_times.get(pid, []) if last_seen is None or at > last_seen
    )
    stretch = 2 if unanswered >= UNANSWERED_BEFORE_GENTLE else 1
    weekday = person.nudge_weekday if person.nudge_weekday is not None else policy.weekday
    for kind, days, last in (
        ("checkin", PERIODIC_DAYS[person.nudge_frequency], history.last_checkin.get(pid)),
        (
            "reflection",
            max(REFLECTION_DAYS, PERIODIC_DAYS[person.nudge_frequency]),
            history.last_reflection.get(pid),
        ),
    ):
        base = person.welcomed_at
        for moment in (last, history.nudged.get((pid, kind))):
            if moment is not None and moment > base:
                base = moment
        target = base.astimezone(local_now.tzinfo).date() + timedelta(days=days * stretch)
        candidates.append((kind, "", target if target > today else today, {}, weekday))
    for kind, key, target, values, on_weekday in candidates:
        if key in history.keys:
            continue  # a one-off already sent
        at = slot(person, max(target, today), policy, weekday=on_weekday)
        if not _due_now(at, local_now, now, policy):
            continue
        key = key or f"{kind}:{pid}:{at.date().isoformat()}"
        payload = [reply_to_dict(_offer(content, person, kind, values))]
        return OutboxMessage(key, pid, kind, at, payload)
    return None


def _experiment_candidates(
    experiment: Experiment, today: date
) -> list[tuple[str, str, date, dict[str, str], int | None]]:
    values = {
        "title": shorten(experiment.title, 120),
        "learned": shorten(experiment.learned or "", 200),
    }
    found: list[tuple[str, str, date, dict[str, str], int | None]] = []
    if (
        experiment.status in (ExperimentStatus.PLANNED, ExperimentStatus.DOING)
        and experiment.planned_date
    ):
        target = experiment.planned_date + timedelta(days=1)
        if target <= today <= target + timedelta(days=14):
            found.append(
                ("experiment_due", f"experiment_due:{experiment.id}", target, values, None)
            )
    if experiment.status == ExperimentStatus.DONE and experiment.done_at is not None:
        done = experiment.done_at.date()
        if not experiment.learned and done + timedelta(days=2) <= today <= done + timedelta(
            days=30
        ):
            target = done + timedelta(days=2)
            found.append(
                ("experiment_reflect", f"experiment_reflect:{experiment.id}", target, values, None)
            )
        if experiment.learned and done + timedelta(days=91) <= today <= done + timedelta(days=121):
            target = done + timedelta(days=91)
            found.append(
                (
                    "experiment_followup",
                    f"experiment_followup:{experiment.id}",
                    target,
                    values,
                    None,
                )
            )
    return found


NUDGE_ACTIONS = {
    "checkin": "checkin",
    "reflection": "reflect",
    "onboarding_7": "checkin",
    "onboarding_30": "checkin",
    "onboarding_91": "checkin",
    "experiment_due": "experiment",
    "experiment_reflect": "experiment",
    "experiment_followup": "experiment",
}


def _offer(content: Content, person: Nudgeable, kind: str, values: dict[str, str]) -> Offer:
    lang = person.language
    text = content.text(lang, f"nudges.{kind}", name=first_name(person.name), **values)
    text += "\n" + content.text(lang, "nudges.footer")
    intent = NUDGE_ACTIONS[kind]
    actions = (
        (intent, content.text(lang, f"nudges.actions.{intent}")),
        ("pause", content.text(lang, "nudges.actions.pause")),
    )
    return Offer(text, actions)

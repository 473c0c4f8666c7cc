"""When to nudge whom: every nudge that is due at an instant, computed from each person's
settings and history.

A nudge is due at a *slot*: the person's preferred local time (IANA zone, so daylight saving is
handled) on a working day — not a weekend, not a public holiday of their country, not inside
their pause. Periodic nudges (check-in, reflection) come one interval after the last time the
person did that thing or was nudged for it; someone who left the last two nudges unanswered
gets a gentler rhythm (twice the interval) until they engage again. One-off nudges follow new
hires (1 week, 1 month, 3 months after their start) and experiments (the planned date, a
missing reflection, a follow-up three months on) and the look back after the field
(:mod:`dialogs.nudges.field_followups`). Each nudge has an idempotency key naming its slot, so
computing twice, or after downtime, enqueues it once; a slot missed for longer than the grace
period is not sent late, the next one is used instead.

Every nudge due at an instant is returned, most important first; :func:`dialogs.nudges.calm.calm`
then keeps it to one message per person per half-day (folding the others in, or moving them).
A new hire the bot has never welcomed but can write to first (Slack: a ``slack_user_id``;
Teams: a stored conversation reference) gets the onboarding check-ins too: the first one
carries the welcome before it, in their language, and delivering it welcomes them
(:func:`welcome_delivered`). A colleague never welcomed who is the buddy of a new hire starting
soon gets the heads-up (:data:`INTRODUCED_KINDS`) with one line saying who Regie is instead, as
a feedback request does: it is about someone else, and the welcome waits until they write.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, false, func, or_, true
from sqlalchemy import select as sa_select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from dialogs.engine.calendar import (
    PERIODIC_DAYS,
    Nudgeable,
    NudgePolicy,
    local_instant,
    slot,
)
from dialogs.engine.content import Content
from dialogs.engine.replies import Offer, Reply, Say, reply_to_dict
from dialogs.engine.text import shorten
from dialogs.nudges.buddies import (
    BUDDY_ACTIONS,
    HEADS_UP_KIND,
    BuddyPairs,
    buddy_pairs,
    heads_ups,
    onboarding_kind,
)
from dialogs.nudges.calm import FOLDED_INTO, LATER_INTENT, MOVED_TO, WELCOME_MARK
from dialogs.nudges.field_followups import (
    FOLLOW_UP_ACTION,
    FOLLOW_UP_KIND,
    Placement,
    field_followups,
    placements_to_follow_up,
)
from dialogs.nudges.growth import GROWTH_ACTIONS, Due, conversations_to_nudge, growth_nudges
from storage.models import (
    Answer,
    ChannelAddress,
    CheckIn,
    ConsentKind,
    ConsentRecord,
    DialogSession,
    Experiment,
    ExperimentStatus,
    Outbound,
    OutboxState,
    Person,
)
from storage.outbox import ABOUT, OutboxMessage
from storage.people import first_name

REFLECTION_DAYS = 30
ONBOARDING_DAYS = (7, 30, 91)
ONBOARDING_KINDS = frozenset(
    onboarding_kind(days, buddy)[0] for days in ONBOARDING_DAYS for buddy in (None, (0, ""))
)
INTRODUCED_KINDS = frozenset({HEADS_UP_KIND})
"""What someone never welcomed may get without the welcome, with one line introducing Regie."""
UNANSWERED_BEFORE_GENTLE = 2
LATEST_LOCAL_HOUR = 20
"""A nudge that is late (after downtime) still goes out the same day, but never after 20:00."""
TEAMS = "teams"
PERIODIC_KINDS = ("checkin", "reflection")
"""The nudges that come back every interval (their key names the day); every other kind is a
one-off whose key says it went already."""
"""The channel whose stored conversation lets the bot write first (``storage.addresses``)."""

Candidate = tuple[str, str, date, dict[str, str], int | None]
"""(kind, idempotency key or "" for a periodic one, target day, text values, weekday)."""


@dataclass
class _History:
    last_checkin: dict[int, datetime] = field(default_factory=dict)
    last_reflection: dict[int, datetime] = field(default_factory=dict)
    nudged: dict[tuple[int, str], datetime] = field(default_factory=dict)
    unanswered: dict[int, int] = field(default_factory=dict)
    """Nudges that went since the person last talked to the bot."""
    keys: set[str] = field(default_factory=set)
    experiments: dict[int, list[Experiment]] = field(default_factory=lambda: defaultdict(list))
    placements: dict[int, Placement] = field(default_factory=dict)
    buddies: BuddyPairs = field(default_factory=BuddyPairs)
    conversations: dict[int, list[Due]] = field(default_factory=dict)


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


People = list[ColumnElement[bool]] | None
"""Which people a tick evaluates: conditions on ``Person``, any of which chooses someone (an
empty list: nobody); None: everyone."""


def _in_window(db: Session, now: datetime, since: datetime | None, policy: NudgePolicy) -> People:
    """The people whose slot can fall due at this tick.

    Every nudge goes out at a slot: the person's nudge time on their local today (an earlier
    day's slot is never sent late, a later one is not due yet), due from that instant for the
    grace period. So whether anyone can be due depends only on their time zone and nudge time,
    of which there are few: each pair whose slot today lies in the window is chosen, and only
    their people are loaded. The window is the grace period before ``now``; with ``since`` (the
    last tick whose nudges were written) it starts after ``since``, whose tick evaluated every
    slot up to it — after downtime, everything that fell due within the grace still goes."""
    start = now - policy.grace
    pairs = db.connection().execute(
        sa_select(col(Person.timezone), col(Person.nudge_time)).distinct()
    )
    chosen: list[ColumnElement[bool]] = []
    every = True
    for zone, clock in pairs:
        local_now = now.astimezone(ZoneInfo(zone))
        at = local_instant(local_now.date(), clock or policy.time, zone)
        due = start <= at <= now and (since is None or at > since)
        if not due or local_now.hour >= LATEST_LOCAL_HOUR:
            every = False
            continue
        chosen.append(
            and_(
                col(Person.timezone) == zone,
                col(Person.nudge_time) == clock if clock else col(Person.nudge_time).is_(None),
            )
        )
    return None if every else chosen


def _history(db: Session, now: datetime, people: People = None) -> _History:
    history = _History()
    ids = None if people is None else sa_select(col(Person.id)).where(or_(false(), *people))

    def of_them(column: Any) -> ColumnElement[bool]:
        return true() if ids is None else col(column).in_(ids)

    checkins = select(CheckIn.person_id, func.max(CheckIn.created_at)).where(
        of_them(CheckIn.person_id)
    )
    for person_id, at in db.exec(checkins.group_by(col(CheckIn.person_id))):
        history.last_checkin[person_id] = at
    reflections = select(Answer.person_id, func.max(Answer.created_at)).where(
        Answer.dialog_id == "reflection", of_them(Answer.person_id)
    )
    for person_id, at in db.exec(reflections.group_by(col(Answer.person_id))):
        history.last_reflection[person_id] = at
    _outbox_history(db, now, history, of_them)
    # Only experiments that can be due around now (see _experiment_candidates): an open one
    # planned for the last fortnight or so (local days differ from UTC's by one at most), a
    # done one of the last 125 days. Not every open experiment ever planned.
    planned_since, planned_until = (
        (now - timedelta(days=16)).date(),
        (now + timedelta(days=1)).date(),
    )
    open_or_recent = select(Experiment).where(
        of_them(Experiment.person_id),
        or_(
            and_(
                col(Experiment.status).in_([ExperimentStatus.PLANNED, ExperimentStatus.DOING]),
                col(Experiment.planned_date) >= planned_since,
                col(Experiment.planned_date) <= planned_until,
            ),
            and_(
                col(Experiment.status) == ExperimentStatus.DONE,
                col(Experiment.done_at) >= now - timedelta(days=125),
            ),
        ),
    )
    for experiment in db.exec(open_or_recent):
        history.experiments[experiment.person_id].append(experiment)
    history.placements = placements_to_follow_up(db, now=now)
    history.buddies = buddy_pairs(db, now=now)
    history.conversations = conversations_to_nudge(db, now=now)
    return history


def _outbox_history(
    db: Session,
    now: datetime,
    history: _History,
    of_them: Callable[[Any], ColumnElement[bool]],
) -> None:
    """What the outbox of the last 400 days says, aggregated by the database (a year of
    nudges for 100,000 people is over a million rows; what is needed is a few per person):
    when each person was last nudged for each kind, how many nudges went since they last
    talked to the bot, and the keys of the one-off nudges already written. HR's campaigns are
    not the person's rhythm and do not count. ``of_them``: the people the tick evaluates."""
    recent = and_(
        col(Outbound.created_at) >= now - timedelta(days=400),
        col(Outbound.campaign_id).is_(None),
        of_them(Outbound.person_id),
    )
    last = sa_select(col(Outbound.person_id), col(Outbound.kind), func.max(Outbound.created_at))
    for person_id, kind, at in db.connection().execute(
        last.where(recent).group_by(col(Outbound.person_id), col(Outbound.kind))
    ):
        history.nudged[(person_id, kind)] = at
    seen = (
        sa_select(
            col(DialogSession.person_id).label("person_id"),
            func.max(DialogSession.updated_at).label("at"),
        )
        .where(of_them(DialogSession.person_id))
        .group_by(col(DialogSession.person_id))
        .subquery()
    )
    went = (
        sa_select(col(Outbound.person_id), func.count())
        .outerjoin(seen, seen.c.person_id == Outbound.person_id)
        .where(recent, col(Outbound.created_at) <= now, ~_calmed())
        .where(or_(seen.c.at.is_(None), col(Outbound.created_at) > seen.c.at))
        .group_by(col(Outbound.person_id))
    )
    for person_id, count in db.connection().execute(went):
        history.unanswered[person_id] = count
    one_offs = sa_select(col(Outbound.idempotency_key)).where(
        recent, col(Outbound.kind).not_in(PERIODIC_KINDS)
    )
    history.keys.update(db.connection().execute(one_offs).scalars())


def _calmed() -> ColumnElement[bool]:
    """A row calm folded into another message, or moved on (its copy counts instead)."""
    note = func.coalesce(Outbound.last_error, "")
    return and_(
        col(Outbound.state) == OutboxState.SKIPPED,
        or_(
            note.startswith(FOLDED_INTO, autoescape=True),
            note.startswith(MOVED_TO, autoescape=True),
        ),
    )


def due_nudges(
    db: Session,
    content: Content,
    *,
    now: datetime,
    policy: NudgePolicy,
    min_group: int = 5,
    since: datetime | None = None,
) -> list[OutboxMessage]:
    """Every nudge due at ``now``, for ``storage.outbox.enqueue_many`` after
    :func:`dialogs.nudges.calm.calm`: per person, most important first (calm sends one and
    folds in or moves the rest). ``min_group``: the organisation's smallest group HR sees
    counts of, as the welcome promises it. ``since``: the last tick whose nudges were
    written; only people whose slot came after it are evaluated (:func:`_in_window`), so a
    tick a minute after the last one reads the history of the few whose minute it is."""
    people = _in_window(db, now, since, policy)
    if people == []:
        return []  # nobody's slot in the window: no history read at all
    history = _history(db, now, people)
    teams = select(ChannelAddress.person_id).where(ChannelAddress.channel == TEAMS)
    can_write_first = or_(
        col(Person.slack_user_id).is_not(None), col(Person.id).in_(teams.scalar_subquery())
    )
    soon = now.date()
    buddies = [
        buddy_id
        for buddy_id, hires in history.buddies.new_hires_of.items()
        if any(hire.start_date >= soon for hire in hires)
    ]
    rows = (
        db.connection()
        .execute(
            select(*_ROW_COLUMNS).where(
                true() if people is None else or_(false(), *people),
                or_(
                    col(Person.welcomed_at).is_not(None),
                    and_(
                        or_(col(Person.start_date).is_not(None), col(Person.id).in_(buddies)),
                        can_write_first,
                    ),
                ),
            )
        )
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
        found += _for_person(
            person, history, content, now, local[person.timezone], policy, min_group
        )
    return found


def _for_person(
    person: Nudgeable,
    history: _History,
    content: Content,
    now: datetime,
    local_now: datetime,
    policy: NudgePolicy,
    min_group: int,
) -> list[OutboxMessage]:
    assert person.id is not None
    pid = person.id
    today = local_now.date()
    candidates: list[Candidate] = []
    for experiment in history.experiments.get(pid, []):
        candidates += _experiment_candidates(experiment, today)
    if person.start_date is not None:
        for days in ONBOARDING_DAYS:
            target = person.start_date + timedelta(days=days)
            if target <= today <= target + timedelta(days=14):
                kind, values = onboarding_kind(days, history.buddies.buddy_of.get(pid))
                candidates.append((kind, f"onboarding:{pid}:{days}", target, values, None))
    candidates += field_followups(history.placements.get(pid), today)
    when = partial(content.date, person.language)
    candidates += heads_ups(pid, history.buddies.new_hires_of.get(pid, []), today, when)
    candidates += growth_nudges(history.conversations.get(pid, []), pid, today, when)
    if person.welcomed_at is not None:
        candidates += _periodic(person, person.welcomed_at, history, local_now, policy)
    found: list[OutboxMessage] = []
    for kind, key, target, values, on_weekday in candidates:
        if key in history.keys:
            continue  # a one-off already sent
        introduce = person.welcomed_at is None and kind in INTRODUCED_KINDS
        if person.welcomed_at is None and kind not in ONBOARDING_KINDS and not introduce:
            continue  # someone never welcomed hears only their onboarding check-ins
        at = slot(person, max(target, today), policy, weekday=on_weekday)
        if not _due_now(at, local_now, now, policy):
            continue
        key = key or f"{kind}:{pid}:{at.date().isoformat()}"
        hour = max(at, now).astimezone(local_now.tzinfo).hour  # when it goes: now, if late
        payload = [
            _offer_dict(content, person, kind, values, hour=hour, key=key, introduce=introduce)
        ]
        welcome = person.welcomed_at is None and not introduce  # introduced: no welcome yet
        if welcome and not any(m.payload[0].get(WELCOME_MARK) for m in found):
            payload = [*_welcome(content, person, hour, min_group), *payload]
        found.append(OutboxMessage(key, pid, kind, at, payload))
    return found


def _periodic(
    person: Nudgeable,
    welcomed_at: datetime,
    history: _History,
    local_now: datetime,
    policy: NudgePolicy,
) -> list[Candidate]:
    """The check-in and the reflection: one interval after the last time the person did it or
    was nudged for it (twice that for someone who left two nudges unanswered)."""
    assert person.id is not None
    pid = person.id
    today = local_now.date()
    stretch = 2 if history.unanswered.get(pid, 0) >= UNANSWERED_BEFORE_GENTLE else 1
    weekday = person.nudge_weekday if person.nudge_weekday is not None else policy.weekday
    found: list[Candidate] = []
    for kind, days, last in (
        ("checkin", PERIODIC_DAYS[person.nudge_frequency], history.last_checkin.get(pid)),
        (
            "reflection",
            max(REFLECTION_DAYS, PERIODIC_DAYS[person.nudge_frequency]),
            history.last_reflection.get(pid),
        ),
    ):
        base = welcomed_at
        for moment in (last, history.nudged.get((pid, kind))):
            if moment is not None and moment > base:
                base = moment
        target = base.astimezone(local_now.tzinfo).date() + timedelta(days=days * stretch)
        found.append((kind, "", target if target > today else today, {}, weekday))
    return found


def _experiment_candidates(experiment: Experiment, today: date) -> list[Candidate]:
    values = {
        "title": shorten(experiment.title, 120),
        "learned": shorten(experiment.learned or "", 200),
    }
    found: list[Candidate] = []
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
    FOLLOW_UP_KIND: FOLLOW_UP_ACTION,
    **BUDDY_ACTIONS,
    **GROWTH_ACTIONS,
}
LATER_KINDS = frozenset(kind for kind, action in NUDGE_ACTIONS.items() if action == "checkin")
"""Check-in nudges also offer "remind me later" (the same nudge again later that day, once)."""


def _offer(
    content: Content,
    person: Nudgeable,
    kind: str,
    values: dict[str, str],
    *,
    hour: int | None = None,
    key: str | None = None,
    introduce: bool = False,
) -> Offer:
    """The nudge: its text, greeting for the local ``hour`` it is sent at, and its buttons —
    what it is about, "remind me later" on a check-in (``key``: the nudge it brings back),
    "pause". ``introduce``: one line saying who Regie is, for someone never welcomed."""
    lang = person.language
    greeting = content.greeting(lang, hour)
    name = first_name(person.name)
    text = content.text(lang, f"nudges.{kind}", name=name, greeting=greeting, **values)
    if introduce:
        text += "\n" + content.text(lang, "nudges.intro")
    text += "\n" + content.text(lang, "nudges.footer")
    intent = NUDGE_ACTIONS[kind]
    actions = [(intent, content.text(lang, f"nudges.actions.{intent}"))]
    if key is not None and kind in LATER_KINDS:
        actions.append((f"{LATER_INTENT}:{key}", content.text(lang, "calm.later.button")))
    actions.append(("pause", content.text(lang, "nudges.actions.pause")))
    return Offer(text, tuple(actions))


def _offer_dict(
    content: Content,
    person: Nudgeable,
    kind: str,
    values: dict[str, str],
    *,
    hour: int | None,
    key: str,
    introduce: bool = False,
) -> dict[str, Any]:
    """The nudge as stored, with the line it becomes when calm folds it into another message
    (``also``; channels render replies through ``reply_from_dict``, which ignores it) and the
    person it names (``about``: a value of the candidate), so forgetting them removes it."""
    values = dict(values)
    about = values.pop(ABOUT, None)
    data = reply_to_dict(
        _offer(content, person, kind, values, hour=hour, key=key, introduce=introduce)
    )
    data["also"] = content.text(person.language, f"calm.lines.{kind}", **values)
    if about is not None:
        data[ABOUT] = [int(about)]
    return data


def _welcome(
    content: Content, person: Nudgeable, hour: int, min_group: int
) -> list[dict[str, Any]]:
    """The welcome (who Regie is, the privacy promise) before someone's first message, in
    their language; marked, so delivering it welcomes them."""
    lang = person.language
    hello = content.text(
        lang, "welcome.hello", greeting=content.greeting(lang, hour), name=first_name(person.name)
    )
    replies: list[Reply] = [
        Say(hello),
        Say(content.text(lang, "welcome.privacy", min_group=min_group)),
    ]
    found = [reply_to_dict(reply) for reply in replies]
    found[0][WELCOME_MARK] = True
    return found


def welcome_delivered(db: Session, rows: Iterable[Outbound], *, now: datetime) -> int:
    """Someone whose message carrying the welcome was delivered (``rows`` just marked sent) is
    welcomed from now on, as if they had said hi: the privacy promise was shown, and recorded.
    Returns how many were welcomed."""
    welcomed = 0
    for row in rows:
        if row.state != OutboxState.SENT or not any(
            isinstance(data, dict) and data.get(WELCOME_MARK) for data in row.payload
        ):
            continue
        person = db.get(Person, row.person_id)
        if person is None or person.welcomed_at is not None:
            continue
        at = row.sent_at or now
        person.welcomed_at = at
        db.add(person)
        db.add(
            ConsentRecord(
                person_id=row.person_id, kind=ConsentKind.PRIVACY_NOTICE, granted=True, at=at
            )
        )
        welcomed += 1
    return welcomed

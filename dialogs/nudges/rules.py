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
from functools import lru_cache, partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, false, func, or_, true
from sqlalchemy import select as sa_select
from sqlalchemy import text as sql_text
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

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
from storage.id_sets import among
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
GENTLE_STRETCH = 2
"""Someone who left that many nudges unanswered gets them this many times further apart."""
LATEST_LOCAL_HOUR = 20
"""A nudge that is late (after downtime) still goes out the same day, but never after 20:00."""
TEAMS = "teams"
PERIODIC_KINDS = ("checkin", "reflection")
"""The nudges that come back every interval (their key names the day); every other kind is a
one-off whose key says it went already."""
"""The channel whose stored conversation lets the bot write first (``storage.addresses``)."""

Candidate = tuple[str, str, date, dict[str, str], int | None]
"""(kind, idempotency key or "" for a periodic one, target day, text values, weekday)."""


@dataclass(frozen=True, slots=True)
class _Experiment:
    """What the rules need of an experiment (read as columns, not as ORM objects)."""

    id: int | None
    person_id: int
    title: str
    learned: str | None
    status: ExperimentStatus
    planned_date: date | None
    done_at: datetime | None


_EXPERIMENT_COLUMNS = [getattr(Experiment, name) for name in _Experiment.__slots__]


@dataclass
class _History:
    last_checkin: dict[int, datetime] = field(default_factory=dict)
    last_reflection: dict[int, datetime] = field(default_factory=dict)
    nudged: dict[tuple[int, str], datetime] = field(default_factory=dict)
    """The last check-in and reflection nudge (within :data:`PERIODIC_HORIZON`)."""
    unanswered: dict[int, int] = field(default_factory=dict)
    """Nudges that went since the person last talked to the bot."""
    keys: set[str] = field(default_factory=set)
    experiments: dict[int, list[_Experiment]] = field(default_factory=lambda: defaultdict(list))
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

PERIODIC_HORIZON = timedelta(
    days=GENTLE_STRETCH * max(REFLECTION_DAYS, *PERIODIC_DAYS.values()) + 3
)
"""How far back a periodic nudge's history matters: one who last did a thing or was nudged
for it longer ago than the longest interval (stretched for the gentle rhythm) is due again at
their next slot whatever the exact moment was (3 days spare for time zones)."""
TIME_ZONE_SLACK = timedelta(days=3)
"""Local days differ from UTC's by one at most; comparisons in UTC keep this much spare."""


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
    slot up to it — after downtime, everything that fell due within the grace still goes.
    Someone added after that tick (a new hire imported at noon) is evaluated too when their
    slot of today has passed within the grace: it goes late, the same day."""
    start = now - policy.grace
    pairs = db.connection().execute(
        sa_select(
            col(Person.timezone),
            col(Person.nudge_time),
            func.max(Person.created_at).filter(col(Person.created_at) <= now),
        ).group_by(col(Person.timezone), col(Person.nudge_time))
    )
    chosen: list[ColumnElement[bool]] = []
    every = True
    for zone, clock, newest in pairs:
        local_now = now.astimezone(ZoneInfo(zone))
        at = local_instant(local_now.date(), clock or policy.time, zone)
        passed = start <= at <= now and local_now.hour < LATEST_LOCAL_HOUR
        theirs = and_(
            col(Person.timezone) == zone,
            col(Person.nudge_time) == clock if clock else col(Person.nudge_time).is_(None),
        )
        if passed and (since is None or at > since):
            chosen.append(theirs)
            continue
        every = False
        if passed and since is not None and newest is not None and newest > since:
            added = and_(col(Person.created_at) > since, col(Person.created_at) <= now)
            chosen.append(and_(theirs, added))  # added since the last tick
    return None if every else chosen


def _of_them(people: People) -> Callable[[Any], ColumnElement[bool]]:
    """A condition on a ``person_id`` column: one of the people the tick evaluates."""
    ids = None if people is None else sa_select(col(Person.id)).where(or_(false(), *people))

    def of_them(column: Any) -> ColumnElement[bool]:
        return true() if ids is None else col(column).in_(ids)

    return of_them


def _history(db: Session, now: datetime, people: People = None) -> _History:
    """What the one-off nudges need: experiments around now, field placements, buddies,
    growth conversations (the keys of those already written: :func:`_written`). The history
    of the periodic ones comes with the people themselves (:func:`_people`)."""
    history = _History()
    of_them = _of_them(people)
    open_or_recent = sa_select(*_EXPERIMENT_COLUMNS).where(
        of_them(Experiment.person_id), _experiments_around(now)
    )
    for values in db.connection().execute(open_or_recent):
        experiment = _Experiment(*values)
        history.experiments[experiment.person_id].append(experiment)
    history.placements = placements_to_follow_up(db, now=now)
    history.buddies = buddy_pairs(db, now=now)
    history.conversations = conversations_to_nudge(db, now=now)
    return history


def _experiments_around(now: datetime) -> ColumnElement[bool]:
    """The experiments that can have a nudge due around ``now`` (see
    :func:`_experiment_candidates`; local days differ from UTC's by one at most): an open one
    planned for the last fortnight or so, one done a few days to a month ago without a lesson
    (the reflection), one done three to four months ago with a lesson (the follow-up). Not
    every experiment ever planned."""
    planned_since, planned_until = (
        (now - timedelta(days=16)).date(),
        (now + timedelta(days=1)).date(),
    )
    done = col(Experiment.done_at)
    learned = and_(col(Experiment.learned).is_not(None), col(Experiment.learned) != "")
    return or_(
        and_(
            col(Experiment.status).in_([ExperimentStatus.PLANNED, ExperimentStatus.DOING]),
            col(Experiment.planned_date) >= planned_since,
            col(Experiment.planned_date) <= planned_until,
        ),
        and_(
            col(Experiment.status) == ExperimentStatus.DONE,
            or_(
                and_(~learned, done >= now - timedelta(days=32), done <= now),
                and_(
                    learned,
                    done >= now - timedelta(days=123),
                    done <= now - timedelta(days=89),
                ),
            ),
        ),
    )


def _recent(now: datetime) -> ColumnElement[bool]:
    """The outbox rows that make a person's history: the nudges of the last 400 days. HR's
    campaigns are not the person's rhythm and do not count."""
    return and_(
        col(Outbound.created_at) >= now - timedelta(days=400),
        col(Outbound.campaign_id).is_(None),
    )


def _people(
    db: Session,
    now: datetime,
    people: People,
    history: _History,
    buddies: list[int],
    one_offs: set[int],
) -> list[_Row]:
    """The people who can have a nudge due at ``now``, with the history of their periodic
    nudges (into ``history``), in one query the database aggregates: when each last checked
    in and reflected and was last nudged for either (within :data:`PERIODIC_HORIZON`; a year
    of nudges for 100,000 people is over a million rows), and how many nudges went since they
    last talked to the bot. Only who can be due comes back (:func:`_can_be_due`): at the
    tick a whole time zone's slot comes, most of its people are not due that day.
    ``buddies``: people never welcomed whose new hire starts soon (they get the heads-up);
    ``one_offs``: who may have a one-off nudge (:func:`_one_offs_around`)."""
    of_them = _of_them(people)
    horizon = now - PERIODIC_HORIZON
    seen = (
        sa_select(
            col(DialogSession.person_id).label("person_id"),
            func.max(DialogSession.updated_at).label("at"),
        )
        .where(of_them(DialogSession.person_id))
        .group_by(col(DialogSession.person_id))
        .subquery()
    )
    created = col(Outbound.created_at)
    went = and_(created <= now, or_(seen.c.at.is_(None), created > seen.c.at))
    # Read from the index alone (ix_outbound_history: person, moment, kind, state)...
    nudges = (
        sa_select(
            col(Outbound.person_id).label("person_id"),
            *(
                func.max(created)
                .filter(and_(col(Outbound.kind) == kind, created >= horizon))
                .label(kind)
                for kind in PERIODIC_KINDS
            ),
            func.count().filter(went, col(Outbound.state) != OutboxState.SKIPPED).label("went"),
        )
        .outerjoin(seen, seen.c.person_id == Outbound.person_id)
        .where(_recent(now), of_them(Outbound.person_id))
        .group_by(col(Outbound.person_id))
        .subquery()
    )
    # ...and the few skipped rows apart: one calm folded or moved does not count.
    skipped = (
        sa_select(col(Outbound.person_id).label("person_id"), func.count().label("went"))
        .outerjoin(seen, seen.c.person_id == Outbound.person_id)
        .where(col(Outbound.state) == OutboxState.SKIPPED, ~_calmed(), went)
        .where(_recent(now), of_them(Outbound.person_id))
        .group_by(col(Outbound.person_id))
        .subquery()
    )
    unanswered = func.coalesce(nudges.c.went, 0) + func.coalesce(skipped.c.went, 0)
    checkins = (
        sa_select(
            col(CheckIn.person_id).label("person_id"), func.max(CheckIn.created_at).label("at")
        )
        .where(col(CheckIn.created_at) >= horizon, of_them(CheckIn.person_id))
        .group_by(col(CheckIn.person_id))
        .subquery()
    )
    reflections = (
        sa_select(col(Answer.person_id).label("person_id"), func.max(Answer.created_at).label("at"))
        .where(
            col(Answer.dialog_id) == "reflection",
            col(Answer.created_at) >= horizon,
            of_them(Answer.person_id),
        )
        .group_by(col(Answer.person_id))
        .subquery()
    )
    teams = sa_select(col(ChannelAddress.person_id)).where(col(ChannelAddress.channel) == TEAMS)
    can_write_first = or_(
        col(Person.slack_user_id).is_not(None), col(Person.id).in_(teams.scalar_subquery())
    )
    last = {"checkin": checkins.c.at, "reflection": reflections.c.at}
    query = (
        sa_select(
            *_ROW_COLUMNS,
            *(nudges.c[kind] for kind in PERIODIC_KINDS),
            *(last[kind] for kind in PERIODIC_KINDS),
            unanswered,
        )
        .select_from(Person)
        .outerjoin(nudges, nudges.c.person_id == Person.id)
        .outerjoin(skipped, skipped.c.person_id == Person.id)
        .outerjoin(checkins, checkins.c.person_id == Person.id)
        .outerjoin(reflections, reflections.c.person_id == Person.id)
        .where(
            true() if people is None else or_(false(), *people),
            col(Person.nudge_frequency) != "off",
            or_(
                col(Person.welcomed_at).is_not(None),
                and_(
                    or_(col(Person.start_date).is_not(None), col(Person.id).in_(buddies)),
                    can_write_first,
                ),
            ),
            _can_be_due(
                db.get_bind().dialect.name,
                now,
                {kind: (nudges.c[kind], last[kind]) for kind in PERIODIC_KINDS},
                unanswered,
                one_offs,
            ),
        )
    )
    found: list[_Row] = []
    width = len(_ROW_COLUMNS)
    for values in db.connection().execute(query):
        person = _Row(*values[:width])
        if person.id is None:
            continue
        pid = person.id
        checkin_nudge, reflection_nudge, checked_in, reflected, unanswered = values[width:]
        for kind, moment in (("checkin", checkin_nudge), ("reflection", reflection_nudge)):
            if moment is not None:
                history.nudged[(pid, kind)] = moment
        if checked_in is not None:
            history.last_checkin[pid] = checked_in
        if reflected is not None:
            history.last_reflection[pid] = reflected
        if unanswered:
            history.unanswered[pid] = unanswered
        found.append(person)
    return found


def _can_be_due(
    dialect: str,
    now: datetime,
    periodic: dict[str, tuple[ColumnElement[Any], ColumnElement[Any]]],
    unanswered: ColumnElement[Any],
    one_offs: set[int],
) -> ColumnElement[bool]:
    """Everyone who can have a nudge due at ``now``, and some who cannot (:func:`_for_person`
    decides): a one-off may be due (``one_offs``, or a start date whose onboarding check-ins
    are near), or a periodic nudge's interval (stretched for the gentle rhythm, as
    :func:`_periodic` does) has passed since the person was welcomed, last did it and was
    last nudged for it (``periodic``: per kind, the last nudge and the last time they did
    it; ``unanswered``: how many nudges went since they last talked to the bot) — with
    :data:`TIME_ZONE_SLACK` to spare. Someone whose intervals all end after today has
    nothing periodic due today."""
    today = now.date()
    onboarding = and_(
        col(Person.start_date) >= today - timedelta(days=max(ONBOARDING_DAYS) + 16),
        col(Person.start_date) <= today - timedelta(days=min(ONBOARDING_DAYS) - 2),
    )
    gentle = unanswered >= UNANSWERED_BEFORE_GENTLE
    passed = []
    for frequency, days in PERIODIC_DAYS.items():
        for kind, interval in (("checkin", days), ("reflection", max(REFLECTION_DAYS, days))):
            nudged, did = periodic[kind]
            for rhythm, stretch in ((~gentle, 1), (gentle, GENTLE_STRETCH)):
                cutoff = now + TIME_ZONE_SLACK - timedelta(days=interval * stretch)
                passed.append(
                    and_(
                        col(Person.nudge_frequency) == frequency,
                        rhythm,
                        col(Person.welcomed_at) <= cutoff,
                        or_(nudged.is_(None), nudged <= cutoff),
                        or_(did.is_(None), did <= cutoff),
                    )
                )
    return or_(onboarding, among(dialect, col(Person.id), one_offs, name="one_offs"), *passed)


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
    if db.get_bind().dialect.name == "postgresql":
        # The tick's statements run once each over a whole time zone: PostgreSQL's JIT spends
        # longer compiling them than it saves (till the end of the caller's transaction).
        db.connection().execute(sql_text("SET LOCAL jit = off"))
    history = _history(db, now, people)
    soon = now.date()
    buddies = [
        buddy_id
        for buddy_id, hires in history.buddies.new_hires_of.items()
        if any(hire.start_date >= soon for hire in hires)
    ]
    one_offs = _one_offs_around(history, now)
    rows = _people(db, now, people, history, buddies, set(one_offs))
    keys = {key for theirs in one_offs.values() for key in theirs}
    keys |= {
        f"onboarding:{person.id}:{days}"
        for person in rows
        if person.start_date is not None
        for days in ONBOARDING_DAYS
    }
    history.keys = _written(db, now, keys)
    local: dict[str, datetime] = {}  # the local "now" per time zone, computed once
    found: list[OutboxMessage] = []
    for person in rows:
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
    if person.start_date is not None:
        for days in ONBOARDING_DAYS:
            target = person.start_date + timedelta(days=days)
            if target <= today <= target + timedelta(days=14):
                kind, values = onboarding_kind(days, history.buddies.buddy_of.get(pid))
                candidates.append((kind, f"onboarding:{pid}:{days}", target, values, None))
    candidates += _one_offs(history, pid, today, partial(content.date, person.language))
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


def _one_offs(
    history: _History, pid: int, today: date, when: Callable[[date], str]
) -> list[Candidate]:
    """The one-off nudges (but onboarding) this person may have on their ``today``: about
    experiments, the field, a buddy's new hire, growth conversations. ``when``: a date as
    they read it."""
    candidates: list[Candidate] = []
    for experiment in history.experiments.get(pid, []):
        candidates += _experiment_candidates(experiment, today)
    candidates += field_followups(history.placements.get(pid), today)
    candidates += heads_ups(pid, history.buddies.new_hires_of.get(pid, []), today, when)
    candidates += growth_nudges(history.conversations.get(pid, []), pid, today, when)
    return candidates


def _one_offs_around(history: _History, now: datetime) -> dict[int, set[str]]:
    """Everyone who may have a one-off nudge (but onboarding) on their local today (the day
    before UTC's, UTC's, or the day after), by the rules :func:`_for_person` applies, with
    the keys of those nudges."""
    days = [now.date() + timedelta(days=offset) for offset in (-1, 0, 1)]
    people = {
        *history.experiments,
        *history.placements,
        *history.buddies.new_hires_of,
        *history.conversations,
    }
    found: dict[int, set[str]] = {}
    for pid in people:
        keys = {key for day in days for _, key, *_ in _one_offs(history, pid, day, str)}
        if keys:
            found[pid] = keys
    return found


def _written(db: Session, now: datetime, keys: set[str]) -> set[str]:
    """Which of these one-off nudges were written already (looked up by their keys)."""
    dialect = db.get_bind().dialect.name
    query = sa_select(col(Outbound.idempotency_key)).where(
        among(dialect, col(Outbound.idempotency_key), keys, name="keys"),
        _recent(now),
        col(Outbound.kind).not_in(PERIODIC_KINDS),
    )
    return set(db.connection().execute(query).scalars())


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
    gentle = history.unanswered.get(pid, 0) >= UNANSWERED_BEFORE_GENTLE
    stretch = GENTLE_STRETCH if gentle else 1
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


def _experiment_candidates(experiment: _Experiment, today: date) -> list[Candidate]:
    found: list[Candidate] = []
    if (
        experiment.status in (ExperimentStatus.PLANNED, ExperimentStatus.DOING)
        and experiment.planned_date
    ):
        target = experiment.planned_date + timedelta(days=1)
        if target <= today <= target + timedelta(days=14):
            found.append(
                (
                    "experiment_due",
                    f"experiment_due:{experiment.id}",
                    target,
                    _values(experiment),
                    None,
                )
            )
    if experiment.status == ExperimentStatus.DONE and experiment.done_at is not None:
        done = experiment.done_at.date()
        if not experiment.learned and done + timedelta(days=2) <= today <= done + timedelta(
            days=30
        ):
            target = done + timedelta(days=2)
            found.append(
                (
                    "experiment_reflect",
                    f"experiment_reflect:{experiment.id}",
                    target,
                    _values(experiment),
                    None,
                )
            )
        if experiment.learned and done + timedelta(days=91) <= today <= done + timedelta(days=121):
            target = done + timedelta(days=91)
            found.append(
                (
                    "experiment_followup",
                    f"experiment_followup:{experiment.id}",
                    target,
                    _values(experiment),
                    None,
                )
            )
    return found


def _values(experiment: _Experiment) -> dict[str, str]:
    return {
        "title": shorten(experiment.title, 120),
        "learned": shorten(experiment.learned or "", 200),
    }


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
    greeting = _fixed(content, lang, "", hour)
    name = first_name(person.name)
    text = content.text(lang, f"nudges.{kind}", name=name, greeting=greeting, **values)
    if introduce:
        text += "\n" + _fixed(content, lang, "nudges.intro")
    text += "\n" + _fixed(content, lang, "nudges.footer")
    intent = NUDGE_ACTIONS[kind]
    actions = [(intent, _fixed(content, lang, f"nudges.actions.{intent}"))]
    if key is not None and kind in LATER_KINDS:
        actions.append((f"{LATER_INTENT}:{key}", _fixed(content, lang, "calm.later.button")))
    actions.append(("pause", _fixed(content, lang, "nudges.actions.pause")))
    return Offer(text, tuple(actions))


@lru_cache(maxsize=1024)
def _fixed(content: Content, lang: str, key: str, hour: int | None = None) -> str:
    """A text that names nobody (a button, the footer), or with no ``key`` the greeting for
    ``hour``: the same for thousands of nudges of one tick, looked up once."""
    return content.text(lang, key) if key else content.greeting(lang, hour)


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
    line = f"calm.lines.{kind}"
    lang = person.language
    data["also"] = content.text(lang, line, **values) if values else _fixed(content, lang, line)
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

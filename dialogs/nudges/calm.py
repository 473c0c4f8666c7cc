"""Calm: at most one message from the bot per person per half-day.

Nudges, digests and campaign steps are decided by their own rules (:mod:`dialogs.nudges.rules`,
:mod:`dialogs.nudges.digest`, :mod:`dialogs.campaigns.planner`); :func:`calm` sits between
those and ``storage.outbox.enqueue_many`` and decides when each actually goes. The rules:

- A *half-day* is the morning (before 13:00) or the afternoon (from 13:00) of a day in the
  person's own time zone. A message takes the half-day it goes out in: a sent one when it was
  sent, a waiting one when it is due (or now, when it is late).
- In each half-day one message goes: the most important. Importance, highest first: a campaign
  step (HR planned its day) > the manager's digest > an experiment, onboarding or field
  look-back nudge (about something the person did or started) > a check-in > a reflection.
  A notice before old items are deleted (kind ``retention``) keeps its moment whatever else
  is due: its date is a promise.
- A less important nudge due in the same half-day is *folded* into the one that goes, as a
  line "Also: …" with its own button (a button the message already has is not repeated). It is
  written as a skipped row noting ``folded into <key>``, so it is never sent twice and never
  lost. Only nudges fold: a digest is too long, a message carrying the welcome must come
  first, and a campaign step keeps its own row (HR's figures count it). Nothing is folded into
  a campaign step that is not yet due: a campaign can still be paused or cancelled.
- What cannot fold is *moved* to the next free half-day on one of the person's working days
  (not during their pause, except a digest) at the same clock time, or at their morning nudge
  time or 14:00 when the half differs; same key, so it is still written once.
- A more important message that finds its half-day taken by a less important one that is not
  yet on its way (pending, never tried, not a campaign step) takes its place: the other one is
  folded into it, or moved on (a copy with a new key; the old row notes ``moved to <key>``).
- A campaign step never leaves its day: taken, its half-day passes it to the other half of the
  same day (from 13:00, or the morning slot); when both halves are taken by messages it cannot
  displace (sent already, or other campaign steps) it goes at its own time anyway: HR's plan
  wins (a warning is logged; plan at most two steps a day).
- Check-in nudges offer "remind me later" (:data:`nudge_later`): the same nudge again later
  that day, through these same rules, once.

``REGIE_CALM=false`` turns this off: every campaign step and digest goes at its own time, and at
most one nudge per person each time the rules run (the most important; the rest come later).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from dialogs.engine.calendar import NudgePolicy, is_working_day, local_instant
from dialogs.engine.content import Content, load_content
from dialogs.engine.dialog import Ctx, Dialog, End, Next
from storage.id_sets import among
from storage.models import Outbound, Person
from storage.outbox import (
    OutboxMessage,
    by_key,
    enqueue_many,
    mark_skipped,
    taken_between,
    untouched,
)

log = logging.getLogger(__name__)

FOLDED_INTO = "folded into "
"""The note of a message calm folded into another: ``folded into <key of the one that went>``."""
MOVED_TO = "moved to "
"""The note of a waiting message calm moved on: ``moved to <key of its copy>``."""
LATER_INTENT = "later"
"""The "remind me later" button: ``later:<key of the nudge>``."""
WELCOME_MARK = "welcome"
"""Marks the welcome carried before someone's first message (a key channels ignore)."""
ALSO = "also"
"""The short line a nudge becomes when folded into another message (a key channels ignore)."""
CAMPAIGN = "campaign"
DIGEST = "digest"
EXEMPT_KINDS = frozenset({"system"})
"""Messages calm leaves alone, and does not count."""
FIXED_KINDS = frozenset({"retention"})
"""Messages that keep their moment (a notice before old items are deleted: its date is the
promise): they take their half-day, are never folded or moved, and carry nothing."""
LATER_GAP = timedelta(hours=2)
""""Remind me later" comes at the afternoon slot, and at least this long after the press."""
LATEST_LOCAL_HOUR = 20

HalfDay = tuple[date, int]
"""A local date and 0 (morning) or 1 (afternoon)."""


@dataclass(frozen=True)
class CalmPolicy:
    """How calm the bot is (``REGIE_CALM``) and the slots a moved message can take."""

    enabled: bool = True
    split_hour: int = 13
    """The afternoon starts at this local hour."""
    afternoon: str = "14:00"
    """When a message moved to an afternoon goes (unless it was planned for an afternoon)."""
    nudges: NudgePolicy = field(default_factory=NudgePolicy)
    """The organisation's nudge time (the morning slot) and country (working days)."""
    horizon: timedelta = timedelta(days=60)
    """How far ahead a moved message may go (a message never waits longer than this)."""


def importance(kind: str, campaign_id: int | None = None) -> int:
    """Which message goes when two want the same half-day: the higher."""
    if kind in FIXED_KINDS:
        return 60
    if campaign_id is not None or kind == CAMPAIGN:
        return 50
    if kind == DIGEST:
        return 40
    if kind.startswith(("experiment_", "onboarding_", "field_")):
        return 30
    if kind == "checkin":
        return 20
    if kind == "reflection":
        return 10
    return 25


def calm(
    db: Session,
    messages: Iterable[OutboxMessage],
    now: datetime,
    policy: CalmPolicy,
    *,
    content: Content | None = None,
) -> list[OutboxMessage]:
    """The messages to write to the outbox instead of ``messages`` (all due at ``now`` or
    queued ahead): at most one per person per half-day, the rest folded in or moved (see the
    module's rules). Waiting rows it takes the place of are changed in ``db`` (skipped, with
    a note). Run it in the transaction that writes what it returns."""
    messages = list(messages)
    if not policy.enabled:
        return _one_nudge_each(messages)
    calmed = [m for m in messages if not m.skipped and m.kind not in EXEMPT_KINDS]
    if not calmed:
        return messages
    out = [m for m in messages if m.skipped or m.kind in EXEMPT_KINDS]
    mine: dict[int, list[OutboxMessage]] = defaultdict(list)
    for message in calmed:
        mine[message.person_id].append(message)
    people = _people(db, mine)
    rows: dict[int, list[Outbound]] = defaultdict(list)
    end = now + policy.horizon + timedelta(days=2)
    for row in taken_between(db, mine, start=now - timedelta(days=2), end=end):
        rows[row.person_id].append(row)
    texts = content or load_content()
    for person_id, theirs in mine.items():
        who = people.get(person_id)
        if who is None:  # deleted meanwhile: nothing to be calm about
            out += theirs
            continue
        out += _Calendar(db, who, rows[person_id], now, policy, texts).place(theirs)
    return out


def _one_nudge_each(messages: list[OutboxMessage]) -> list[OutboxMessage]:
    """Calm off: campaign steps and digests as they are, one nudge per person (the first, the
    most important); the others are not written, so the rules find them due again later."""
    seen: set[int] = set()
    kept: list[OutboxMessage] = []
    for message in messages:
        nudge = message.campaign_id is None and message.kind not in (CAMPAIGN, DIGEST)
        if nudge and not message.skipped and message.kind not in EXEMPT_KINDS:
            if message.person_id in seen:
                continue
            seen.add(message.person_id)
        kept.append(message)
    return kept


@dataclass(frozen=True)
class _Who:
    id: int
    language: str
    zone: str
    country: str
    nudge_time: str | None
    paused_until: date | None


def _people(db: Session, ids: Iterable[int]) -> dict[int, _Who]:
    found: dict[int, _Who] = {}
    query = sa_select(
        col(Person.id),
        col(Person.language),
        col(Person.timezone),
        col(Person.country),
        col(Person.nudge_time),
        col(Person.nudge_paused_until),
    ).where(among(db.get_bind().dialect.name, col(Person.id), ids))
    for pid, lang, zone, country, clock, paused in db.connection().execute(query):
        if pid is not None:
            found[pid] = _Who(pid, lang, zone, country, clock, paused)
    return found


@dataclass
class _New:
    """A message of this round that goes (its payload grows as others fold into it)."""

    message: OutboxMessage
    importance: int


@dataclass
class _Taken:
    """Who has a half-day: rows already written, or a message of this round."""

    importance: int
    rows: list[Outbound] = field(default_factory=list)
    new: _New | None = None


class _Calendar:
    """One person's half-days: what took them, and where this round's messages go."""

    def __init__(
        self,
        db: Session,
        who: _Who,
        rows: list[Outbound],
        now: datetime,
        policy: CalmPolicy,
        content: Content,
    ) -> None:
        self.db = db
        self.who = who
        self.zone = ZoneInfo(who.zone)
        self.now = now
        self.policy = policy
        self.content = content
        self.taken: dict[HalfDay, _Taken] = {}
        self.news: list[_New] = []
        self.written: list[OutboxMessage] = []
        """Folded messages, written as skipped rows."""
        self.moved_from: dict[HalfDay, _New] = {}
        """The first message of this round moved away from a half-day: others moving from
        there fold into it."""
        for row in rows:
            if row.kind in EXEMPT_KINDS:
                continue
            half = self.half(self._instant(row))
            weight = importance(row.kind, row.campaign_id)
            taken = self.taken.setdefault(half, _Taken(weight))
            taken.importance = max(taken.importance, weight)
            taken.rows.append(row)

    # -- time -------------------------------------------------------------------------------

    def half(self, at: datetime) -> HalfDay:
        local = at.astimezone(self.zone)
        return local.date(), 0 if local.hour < self.policy.split_hour else 1

    def _instant(self, row: Outbound) -> datetime:
        """When a row goes, or went: sent, when it was; waiting for the console, when it was
        due; otherwise when it is due, or now if it is late."""
        if row.sent_at is not None:
            return row.sent_at
        if row.channel == "console":
            return row.created_at
        return max(row.created_at, row.not_before, self.now)

    def _clock(self, at: datetime) -> str:
        return f"{at.astimezone(self.zone):%H:%M}"

    def _morning(self) -> str:
        own = self.who.nudge_time
        if own is not None and int(own[:2]) < self.policy.split_hour:
            return own
        return self.policy.nudges.time

    def _slot(self, half: HalfDay, clock: str) -> datetime:
        """The moment a message planned at ``clock`` goes in ``half``: at that clock when it
        is in the same half, else at the morning nudge time or the afternoon slot."""
        in_afternoon = int(clock[:2]) >= self.policy.split_hour
        if half[1] == 0:
            clock = self._morning() if in_afternoon else clock
        elif not in_afternoon:
            clock = self.policy.afternoon
        return local_instant(half[0], clock, self.who.zone)

    def _open(self, day: date, kind: str) -> bool:
        country = self.who.country or self.policy.nudges.country
        if not is_working_day(day, country):
            return False
        paused = self.who.paused_until
        return kind == DIGEST or paused is None or day > paused

    # -- placing ----------------------------------------------------------------------------

    def place(self, messages: list[OutboxMessage]) -> list[OutboxMessage]:
        order = sorted(messages, key=lambda m: (-importance(m.kind, m.campaign_id), m.due))
        for message in order:
            self._place(message)
        return [new.message for new in self.news] + self.written

    def _place(self, message: OutboxMessage) -> None:
        weight = importance(message.kind, message.campaign_id)
        half = self.half(max(message.due, self.now))
        taken = self.taken.get(half)
        if taken is None:
            self._take(half, message, weight)
            return
        if taken.new is not None and self._fold(taken.new, message):
            return
        if taken.new is None and self._take_over(half, taken, message, weight):
            return
        moved = self.moved_from.get(half)
        if moved is not None and self._fold(moved, message):
            return
        if message.kind in FIXED_KINDS:
            self._goes_anyway(message, weight)
        elif _is_campaign(message):
            self._keep_day(half, message, weight)
        else:
            self._move(half, message, weight)

    def _take(self, half: HalfDay, message: OutboxMessage, weight: int) -> _New:
        new = _New(message, weight)
        self.news.append(new)
        self.taken[half] = _Taken(weight, new=new)
        return new

    def _can_carry(self, carrier: _New) -> bool:
        """Nothing is folded into a campaign step that is not yet due: a campaign can still be
        paused or cancelled, and what it carries would go with it."""
        if carrier.message.kind in FIXED_KINDS:
            return False
        return not _is_campaign(carrier.message) or carrier.message.due <= self.now

    def _fold(self, carrier: _New, message: OutboxMessage) -> bool:
        if not _foldable(message) or not self._can_carry(carrier):
            return False
        self._fold_payload(carrier, message.payload)
        note = FOLDED_INTO + carrier.message.key
        self.written.append(replace(message, skipped=True, note=note))
        return True

    def _fold_payload(self, carrier: _New, payload: list[dict[str, Any]]) -> None:
        """The carrier's replies, then the folded message as one "Also: …" line with its own
        buttons (not "pause" or "remind me later", nor a button the carrier already has),
        then whatever had been folded into that message before."""
        main, *rest = payload
        replies = list(carrier.message.payload)
        have = {str(action[0]) for reply in replies for action in reply.get("actions", [])}
        actions = [
            [str(intent), str(label)]
            for intent, label in main.get("actions", [])
            if intent != "pause" and not str(intent).startswith(LATER_INTENT + ":")
        ]
        fresh = [action for action in actions if action[0] not in have]
        if fresh or not actions:  # a button the carrier already has: nothing to add
            what = main.get(ALSO) or str(main.get("text", "")).split("\n")[0]
            line = self.content.text(self.who.language, "calm.also", what=what)
            replies.append({"kind": "offer", "text": line, "actions": fresh})
            have |= {action[0] for action in fresh}
        for extra in rest:
            intents = [str(action[0]) for action in extra.get("actions", [])]
            if intents and all(intent in have for intent in intents):
                continue
            replies.append(extra)
            have |= set(intents)
        carrier.message = replace(carrier.message, payload=replies)

    def _take_over(self, half: HalfDay, taken: _Taken, message: OutboxMessage, weight: int) -> bool:
        """A more important message takes a half-day from less important ones that are not on
        their way yet: they are folded into it, or moved on."""
        rows = taken.rows
        if not rows or any(
            importance(row.kind, row.campaign_id) >= weight
            or row.campaign_id is not None
            or row.kind in FIXED_KINDS
            for row in rows
        ):
            return False
        locked = [untouched(self.db, row.id) for row in rows if row.id is not None]
        if len(locked) != len(rows) or any(row is None for row in locked):
            return False
        new = self._take(half, message, weight)
        for row in locked:
            assert row is not None
            waiting = _as_message(row)
            if _foldable(waiting) and self._can_carry(new):
                self._fold_payload(new, waiting.payload)
                mark_skipped(row, reason=FOLDED_INTO + message.key)
            else:
                copy = self._move(half, waiting, importance(row.kind), rekey=True)
                mark_skipped(row, reason=MOVED_TO + copy.message.key)
            self.db.add(row)
        return True

    def _move(
        self, half: HalfDay, message: OutboxMessage, weight: int, *, rekey: bool = False
    ) -> _New:
        """To the next free half-day (``rekey``: as a copy with a key of its own)."""
        clock = self._clock(message.due)
        day, part = half
        for _ in range(2 * self.policy.horizon.days):
            day, part = (day, 1) if part == 0 else (day + timedelta(days=1), 0)
            if (day, part) in self.taken or not self._open(day, message.kind):
                continue
            at = self._slot((day, part), clock)
            if at <= self.now:
                continue
            moved = replace(message, due=at, payload=self._regreet(message.payload, at))
            if rekey:
                base = message.key.split("@")[0]
                moved = replace(
                    moved, key=f"{base}@{day.isoformat()}-{'am' if part == 0 else 'pm'}"
                )
            new = self._take((day, part), moved, weight)
            self.moved_from.setdefault(half, new)
            return new
        log.warning("no free half-day for %s within the horizon: it goes as planned", message.key)
        return self._goes_anyway(message, weight)

    def _keep_day(self, half: HalfDay, message: OutboxMessage, weight: int) -> None:
        """A campaign step moves to the other half of its day, or goes at its time anyway."""
        other = (half[0], 1 - half[1])
        taken = self.taken.get(other)
        if half[1] == 0:
            at = local_instant(half[0], f"{self.policy.split_hour:02d}:00", self.who.zone)
        else:
            at = self._slot(other, self._morning())
        if at > self.now:
            moved = replace(message, due=at, payload=self._regreet(message.payload, at))
            if taken is None:
                self._take(other, moved, weight)
                return
            if taken.new is None and self._take_over(other, taken, moved, weight):
                return
        log.warning(
            "campaign message %s: both halves of its day are taken; it keeps its time",
            message.key,
        )
        self._goes_anyway(message, weight)

    def _goes_anyway(self, message: OutboxMessage, weight: int) -> _New:
        new = _New(message, weight)
        self.news.append(new)
        return new

    def _regreet(self, payload: list[dict[str, Any]], at: datetime) -> list[dict[str, Any]]:
        """Texts that open with a greeting for a part of the day get the one for the hour they
        now go at."""
        hour = at.astimezone(self.zone).hour
        return [_regreeted(self.content, reply, hour) for reply in payload]


def _regreeted(content: Content, reply: dict[str, Any], hour: int) -> dict[str, Any]:
    text = reply.get("text")
    if not isinstance(text, str):
        return reply
    for lang in content.texts:
        for part in ("morning", "afternoon", "evening"):  # "Hi" fits any hour: it stays
            try:
                old = content.text(lang, f"greetings.{part}")
            except KeyError:
                continue
            if text.startswith((old + " ", old + ",", old + "!")):
                return {**reply, "text": content.greeting(lang, hour) + text[len(old) :]}
    return reply


def _is_campaign(message: OutboxMessage) -> bool:
    return message.campaign_id is not None or message.kind == CAMPAIGN


def _foldable(message: OutboxMessage) -> bool:
    """A nudge: one offer first (not a digest, not a message carrying the welcome, not a
    campaign step)."""
    return (
        not _is_campaign(message)
        and message.kind != DIGEST
        and message.kind not in FIXED_KINDS
        and bool(message.payload)
        and message.payload[0].get("kind") == "offer"
    )


def _as_message(row: Outbound) -> OutboxMessage:
    return OutboxMessage(
        row.idempotency_key,
        row.person_id,
        row.kind,
        row.created_at,
        list(row.payload),
        campaign_id=row.campaign_id,
        campaign_step=row.campaign_step,
    )


# -- "remind me later" ---------------------------------------------------------------------

nudge_later = Dialog("nudge_later", version=1, first="later", title="calm.later.title")
"""Started by a check-in nudge's "remind me later" button (``later:<key>``)."""


@nudge_later.step("later")
def later(ctx: Ctx) -> Next:
    assert ctx.person.id is not None
    key = str(ctx.values.get("arg", ""))
    row = by_key(ctx.db, key) if key else None
    button = f"{LATER_INTENT}:{key}"
    if row is None or row.person_id != ctx.person.id or not _offers(row.payload, button):
        ctx.say("calm.later.unknown")
        return End()
    again = f"{key.split('@')[0]}:later"
    if by_key(ctx.db, again) is not None:
        ctx.say("calm.later.once")
        return End()
    policy = CalmPolicy(nudges=ctx.settings.policy)
    at = later_slot(ctx.person, ctx.now, policy)
    payload = [
        {**reply, "actions": [a for a in reply.get("actions", []) if a[0] != button]}
        if reply.get("kind") == "offer"
        else reply
        for reply in row.payload
        if not reply.get(WELCOME_MARK)
    ]
    payload = [
        _regreeted(ctx.content, reply, at.astimezone(ZoneInfo(ctx.person.timezone)).hour)
        for reply in payload
    ]
    message = OutboxMessage(again, ctx.person.id, row.kind, at, payload)
    placed = calm(ctx.db, [message], ctx.now, policy, content=ctx.content)
    enqueue_many(ctx.db, placed)
    goes = next((m for m in placed if m.person_id == ctx.person.id and not m.skipped), message)
    local = goes.due.astimezone(ZoneInfo(ctx.person.timezone))
    if local.date() == ctx.today:
        ctx.say("calm.later.today", time=f"{local:%H:%M}")
    else:
        day = (
            ctx.t(f"settings.weekdays.d{local.weekday()}")
            if local.date() - ctx.today < timedelta(days=7)
            else ctx.content.date(ctx.lang, local.date())
        )
        ctx.say("calm.later.another_day", day=day, time=f"{local:%H:%M}")
    return End()


def _offers(payload: list[dict[str, Any]], intent: str) -> bool:
    return any(str(action[0]) == intent for reply in payload for action in reply.get("actions", []))


def later_slot(person: Person, now: datetime, policy: CalmPolicy) -> datetime:
    """When "remind me later" brings a nudge back: the afternoon slot, or two hours on if
    that has passed; when that is too late in the day, the next working morning."""
    zone = ZoneInfo(person.timezone)
    local = now.astimezone(zone)
    afternoon = local_instant(local.date(), policy.afternoon, person.timezone)
    at = max(afternoon, now + LATER_GAP)
    if at.astimezone(zone).hour < LATEST_LOCAL_HOUR - 2:
        return at
    day = local.date() + timedelta(days=1)
    country = person.country or policy.nudges.country
    while not is_working_day(day, country):
        day += timedelta(days=1)
    return local_instant(day, person.nudge_time or policy.nudges.time, person.timezone)

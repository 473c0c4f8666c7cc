"""Growth conversations in the nudges (the conversation itself: :mod:`dialogs.flows.growth`).

To the employee: the other side set a date; a short prep a few days before (until they
prepared); after the date, "note one agreement?"; and the manager's agreement waiting for
their yes or no. To the manager: the employee set a date; the day before, the agenda and
starters; after the date, "note one agreement?". Each once (its key names the conversation,
and the date where a moved date deserves a new one). Every message naming the other person
carries them in its ``about`` list (``storage.outbox.ABOUT``); calm's folded line names nobody.

When one side moves or cancels a date, or sets a rhythm, the other side is told
(:func:`changed`, :func:`rhythm_notice`): a message written by the flow in the same turn, once
(its key names the change). The old date's nudges that have not gone yet are withdrawn; the
new date's come by the rules above, and a cancelled conversation gets none.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from dialogs.engine.calendar import NudgePolicy, slot
from dialogs.engine.content import Content
from dialogs.engine.replies import Offer, reply_to_dict
from storage.conversations import AFTER_DAYS, names, to_nudge, withdraw
from storage.models import (
    ConversationSide,
    ConversationStatus,
    GrowthConversation,
    OutboxState,
    Person,
)
from storage.outbox import ABOUT, OutboxMessage, by_key
from storage.people import first_name

PREP_DAYS = 3
"""The employee's prep nudge comes this many days before the conversation."""
AGENDA_DAYS = 1
"""The manager's agenda nudge comes the working day before (or on the day, when late)."""
NEW_DATE_DAYS = 7
"""The other side hears of a new conversation if it was set at most this long ago."""
LATEST_LOCAL_HOUR = 20
"""A change told after this local hour waits for the next morning's slot."""
EMPLOYEE_INTENT = "growth"
MANAGER_INTENT = "team_growth"
GROWTH_ACTIONS = {
    "conversation_planned": EMPLOYEE_INTENT,
    "conversation_prep": EMPLOYEE_INTENT,
    "conversation_after": EMPLOYEE_INTENT,
    "conversation_note": EMPLOYEE_INTENT,
    "conversation_planned_team": MANAGER_INTENT,
    "conversation_agenda": MANAGER_INTENT,
    "conversation_after_team": MANAGER_INTENT,
    "conversation_moved": EMPLOYEE_INTENT,
    "conversation_moved_team": MANAGER_INTENT,
    "conversation_cancelled": EMPLOYEE_INTENT,
    "conversation_cancelled_team": MANAGER_INTENT,
    "conversation_rhythm": EMPLOYEE_INTENT,
    "conversation_rhythm_team": MANAGER_INTENT,
}
"""The nudges' buttons: the employee's side or the manager's side of the conversation."""

Candidate = tuple[str, str, date, dict[str, str], int | None]


def planned_key(c: GrowthConversation, to: ConversationSide) -> str:
    """The key of the message telling side ``to`` that the other side set the date."""
    suffix = "_team" if to == ConversationSide.MANAGER else ""
    return f"conversation_planned{suffix}:{c.id}"


def prep_key(c: GrowthConversation, day: date) -> str:
    """The employee's prep nudge for ``c`` on ``day`` (a moved date gets its own)."""
    return f"conversation_prep:{c.id}:{day.isoformat()}"


def agenda_key(c: GrowthConversation, day: date) -> str:
    """The manager's agenda nudge for ``c`` on ``day``."""
    return f"conversation_agenda:{c.id}:{day.isoformat()}"


@dataclass(frozen=True)
class Due:
    conversation: GrowthConversation
    employee: str
    manager: str


def conversations_to_nudge(db: Session, *, now: datetime) -> dict[int, list[Due]]:
    """Per person (employee and manager alike), the conversations that may call for a nudge."""
    rows = to_nudge(db, today=now.date(), changed_since=now - timedelta(days=NEW_DATE_DAYS + 1))
    known = names(db, [c.person_id for c in rows] + [c.manager_id for c in rows])
    found: dict[int, list[Due]] = defaultdict(list)
    for c in rows:
        if c.manager_id is None or c.manager_id not in known:
            continue
        due = Due(c, known.get(c.person_id, ""), known[c.manager_id])
        found[c.person_id].append(due)
        found[c.manager_id].append(due)
    return found


def growth_nudges(
    dues: list[Due], person_id: int, today: date, when: Callable[[date], str]
) -> list[Candidate]:
    """What is due for this person on their ``today``; ``when``: a date as they read it."""
    found: list[Candidate] = []
    for due in dues:
        c = due.conversation
        if person_id == c.person_id:
            found += _employee(c, first_name(due.manager), today, when)
        if person_id == c.manager_id:
            found += _manager(c, first_name(due.employee), today, when)
    return found


def _new(set_on: date, today: date) -> bool:
    return set_on >= today - timedelta(days=NEW_DATE_DAYS)


def _after(c: GrowthConversation, today: date) -> bool:
    return c.planned_for < today <= c.planned_for + timedelta(days=AFTER_DAYS)


def _employee(
    c: GrowthConversation, other: str, today: date, when: Callable[[date], str]
) -> list[Candidate]:
    values = {"other": other, "date": when(c.planned_for), ABOUT: str(c.manager_id)}
    found: list[Candidate] = []
    set_on = c.created_at.date()
    if c.set_by == ConversationSide.MANAGER and today < c.planned_for and _new(set_on, today):
        key = planned_key(c, ConversationSide.EMPLOYEE)
        found.append(("conversation_planned", key, set_on, values, None))
    if c.prepared_at is None and c.planned_for - timedelta(days=PREP_DAYS) <= today < c.planned_for:
        key = prep_key(c, c.planned_for)
        found.append(
            ("conversation_prep", key, c.planned_for - timedelta(days=PREP_DAYS), values, None)
        )
    if c.employee_agreement is None and _after(c, today):
        key = f"conversation_after:{c.id}:{c.person_id}"
        found.append(("conversation_after", key, c.planned_for + timedelta(days=1), values, None))
    if c.manager_note is not None and c.manager_note_added is None:
        found.append(("conversation_note", f"conversation_note:{c.id}", today, values, None))
    return found


def _manager(
    c: GrowthConversation, other: str, today: date, when: Callable[[date], str]
) -> list[Candidate]:
    values = {"other": other, "date": when(c.planned_for), ABOUT: str(c.person_id)}
    found: list[Candidate] = []
    set_on = c.created_at.date()
    if c.set_by == ConversationSide.EMPLOYEE and today < c.planned_for and _new(set_on, today):
        key = planned_key(c, ConversationSide.MANAGER)
        found.append(("conversation_planned_team", key, set_on, values, None))
    if c.planned_for - timedelta(days=AGENDA_DAYS) <= today <= c.planned_for:
        key = agenda_key(c, c.planned_for)
        target = c.planned_for - timedelta(days=AGENDA_DAYS)
        found.append(("conversation_agenda", key, target, values, None))
    if c.manager_note is None and _after(c, today):
        key = f"conversation_after_team:{c.id}"
        found.append(
            ("conversation_after_team", key, c.planned_for + timedelta(days=1), values, None)
        )
    return found


# -- telling the other side of a change ---------------------------------------------------------

SENT_STATES = frozenset({OutboxState.SENT, OutboxState.SENDING})
"""An announcement in one of these states has reached (or is reaching) its reader."""


def _other(c: GrowthConversation, by: Person) -> ConversationSide:
    return ConversationSide.EMPLOYEE if by.id == c.manager_id else ConversationSide.MANAGER


def _heard_of(db: Session, c: GrowthConversation, side: ConversationSide) -> bool:
    """Whether ``side`` knows the date: they set it, or its announcement went to them."""
    if c.set_by == side:
        return True
    row = by_key(db, planned_key(c, side))
    return row is not None and row.state in SENT_STATES


def _will_hear_of(db: Session, c: GrowthConversation, side: ConversationSide, today: date) -> bool:
    """Whether the rules will still announce the (current) date to ``side``."""
    return (
        c.set_by != side
        and by_key(db, planned_key(c, side)) is None
        and _new(c.created_at.date(), today)
    )


def changed(
    db: Session,
    content: Content,
    c: GrowthConversation,
    *,
    by: Person,
    old_date: date,
    now: datetime,
    policy: NudgePolicy,
) -> list[OutboxMessage]:
    """After ``by`` moved (``c`` holds the new date) or cancelled ``c``: withdraw the nudges of
    the old date not sent yet, and the message telling the other side, if they knew of the
    date or will not hear of the new one otherwise (none when the rules will still announce
    the new date, or a cancelled one was never announced)."""
    side = _other(c, by)
    heard = _heard_of(db, c, side)
    cancelled = c.status == ConversationStatus.CANCELLED
    reason = "conversation cancelled" if cancelled else "conversation moved"
    withdraw(
        db,
        [planned_key(c, s) for s in ConversationSide]
        + [prep_key(c, old_date), agenda_key(c, old_date)],
        reason=reason,
    )
    other_id = c.person_id if side == ConversationSide.EMPLOYEE else c.manager_id
    other = db.get(Person, other_id) if other_id is not None else None
    if other is None or by.id is None:
        return []
    today = now.astimezone(ZoneInfo(other.timezone)).date()
    if cancelled and not heard:
        return []
    if not cancelled and not heard and _will_hear_of(db, c, side, today):
        return []
    suffix = "_team" if side == ConversationSide.MANAGER else ""
    kind = f"conversation_{'cancelled' if cancelled else 'moved'}{suffix}"
    when = content.date(other.language, c.planned_for)
    values = {
        "other": first_name(by.name),
        "date": when,
        "old": content.date(other.language, old_date),
    }
    key = f"{kind}:{c.id}:{old_date.isoformat()}" + ("" if cancelled else f":{c.planned_for}")
    return [notice(content, other, kind, values, about=by.id, key=key, now=now, policy=policy)]


def rhythm_notice(
    content: Content,
    *,
    to: Person,
    by: Person,
    employee: Person,
    now: datetime,
    policy: NudgePolicy,
) -> OutboxMessage | None:
    """Telling ``to`` (the other side) that ``by`` set the rhythm of ``employee``'s growth
    conversations (``employee.growth_rhythm_months``; None: no rhythm any more)."""
    if to.id is None or by.id is None or employee.id is None:
        return None
    months = employee.growth_rhythm_months
    kind = "conversation_rhythm_team" if to.id != employee.id else "conversation_rhythm"
    rhythm = (
        content.text(to.language, "growth.rhythm.phrase", count=months)
        if months
        else content.text(to.language, "growth.rhythm.no_phrase")
    )
    day = now.astimezone(ZoneInfo(to.timezone)).date().isoformat()
    key = f"{kind}:{employee.id}:{months or 0}:{day}"
    values = {"other": first_name(by.name), "rhythm": rhythm}
    text = f"nudges.{kind}" if months else "nudges.conversation_rhythm_off"
    return notice(
        content, to, kind, values, about=by.id, key=key, now=now, policy=policy, text=text
    )


def notice(
    content: Content,
    to: Person,
    kind: str,
    values: dict[str, str],
    *,
    about: int,
    key: str,
    now: datetime,
    policy: NudgePolicy,
    text: str | None = None,
) -> OutboxMessage:
    """A message to ``to`` about a change the other side made, in their language, with the
    button to their side of the conversation; labelled as about the one who made it. It goes
    at once in the daytime, else at their next nudge slot (after any pause). ``text``: its
    text's key, when not ``nudges.<kind>``."""
    assert to.id is not None
    lang = to.language
    zone = ZoneInfo(to.timezone)
    at = max(slot(to, now.astimezone(zone).date(), policy), now)
    if at.astimezone(zone).hour >= LATEST_LOCAL_HOUR:
        at = slot(to, at.astimezone(zone).date() + timedelta(days=1), policy)
    greeting = content.greeting(lang, at.astimezone(zone).hour)
    said = content.text(
        lang, text or f"nudges.{kind}", greeting=greeting, name=first_name(to.name), **values
    )
    intent = GROWTH_ACTIONS[kind]
    data = reply_to_dict(Offer(said, ((intent, content.text(lang, f"nudges.actions.{intent}")),)))
    data[ABOUT] = [about]
    data["also"] = content.text(lang, f"calm.lines.{kind}")
    return OutboxMessage(key, to.id, kind, at, [data])

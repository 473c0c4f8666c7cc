"""A new hire's buddy in the nudges: a kind heads-up to the buddy a few days before the start
date, and the new hire's own onboarding check-ins (:data:`dialogs.nudges.rules.ONBOARDING_DAYS`)
that name the buddy: the 1-week one introduces them and suggests a first coffee, the 1-month
one asks how it is going with them (its button opens :mod:`dialogs.flows.buddy`).

The buddy is ``person.buddy_id`` (``buddy_email`` in the people CSV). Messages naming the other
person carry them in their ``about`` list (``storage.outbox.ABOUT``), so forgetting either one
removes that part; the short line calm folds a nudge into names nobody.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from storage.models import Person
from storage.outbox import ABOUT
from storage.people import first_name

HEADS_UP_DAYS = 3
"""The buddy hears about their new colleague this many days before the start date."""
BUDDY_CHECKINS = (7, 30)
"""The onboarding check-ins (days after the start) that name the buddy."""
HEADS_UP_KIND = "buddy_heads_up"
BUDDY_ACTIONS = {
    HEADS_UP_KIND: "buddy",
    "onboarding_buddy_7": "checkin",
    "onboarding_buddy_30": "buddy",
}
"""The nudges' buttons (the intent each opens)."""
LOOK_AHEAD_DAYS = 120
"""New hires whose start is at most this long ago (or still to come) are looked at."""

Candidate = tuple[str, str, date, dict[str, str], int | None]


@dataclass(frozen=True)
class NewHire:
    id: int
    name: str
    start_date: date


@dataclass
class BuddyPairs:
    """Per new hire, their buddy (id, name); per buddy, the new hires they look after."""

    buddy_of: dict[int, tuple[int, str]] = field(default_factory=dict)
    new_hires_of: dict[int, list[NewHire]] = field(default_factory=dict)


def buddy_pairs(db: Session, *, now: datetime) -> BuddyPairs:
    """The buddy pairs of recent and upcoming starts (one query)."""
    since = (now - timedelta(days=LOOK_AHEAD_DAYS)).date()
    new_hires = db.exec(
        select(Person).where(col(Person.buddy_id).is_not(None), col(Person.start_date) >= since)
    ).all()
    buddy_ids = {p.buddy_id for p in new_hires if p.buddy_id is not None}
    names = dict(db.exec(select(Person.id, Person.name).where(col(Person.id).in_(buddy_ids))).all())
    pairs = BuddyPairs()
    for hire in new_hires:
        buddy_id, start = hire.buddy_id, hire.start_date
        if hire.id is None or buddy_id is None or start is None or buddy_id not in names:
            continue
        pairs.buddy_of[hire.id] = (buddy_id, names[buddy_id])
        pairs.new_hires_of.setdefault(buddy_id, []).append(NewHire(hire.id, hire.name, start))
    return pairs


def onboarding_kind(days: int, buddy: tuple[int, str] | None) -> tuple[str, dict[str, str]]:
    """The kind of the onboarding check-in after ``days`` (its text) and its values: the
    buddy's first name when there is a buddy and this check-in names them."""
    if buddy is None or days not in BUDDY_CHECKINS:
        return f"onboarding_{days}", {}
    buddy_id, name = buddy
    return f"onboarding_buddy_{days}", {"buddy": first_name(name), ABOUT: str(buddy_id)}


def heads_ups(
    buddy_id: int, new_hires: list[NewHire], today: date, when: Callable[[date], str]
) -> list[Candidate]:
    """The heads-up to a buddy about each new hire starting in the next few days (once per
    pair; a start already passed gets none). ``when``: a date as the buddy reads it."""
    found: list[Candidate] = []
    for hire in new_hires:
        target = hire.start_date - timedelta(days=HEADS_UP_DAYS)
        if not target <= today < hire.start_date:
            continue
        values = {
            "newcomer": first_name(hire.name),
            "full_name": hire.name,
            "date": when(hire.start_date),
            ABOUT: str(hire.id),
        }
        key = f"{HEADS_UP_KIND}:{hire.id}:{buddy_id}"
        found.append((HEADS_UP_KIND, key, target, values, None))
    return found

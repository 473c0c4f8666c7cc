"""Time in a person's own life: their working days (no weekends, no public holidays of their
country), the local instant of a time of day in their zone (daylight saving included), and the
organisation's defaults for when the bot may speak (``NudgePolicy``). Nudges, campaigns, the
home screen and settings all plan with these, so they can never disagree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Protocol
from zoneinfo import ZoneInfo

import holidays

PERIODIC_DAYS = {"weekly": 7, "biweekly": 14, "monthly": 30}


@dataclass(frozen=True)
class NudgePolicy:
    """Organisation defaults; each person may set their own weekday and time."""

    time: str = "09:30"
    weekday: int | None = None
    grace: timedelta = timedelta(hours=24)
    country: str = "NL"


class Nudgeable(Protocol):
    """What scheduling needs of a person (a ``Person`` row, or the light rows read in bulk)."""

    @property
    def id(self) -> int | None: ...

    @property
    def name(self) -> str: ...

    @property
    def language(self) -> str: ...

    @property
    def timezone(self) -> str: ...

    @property
    def country(self) -> str: ...

    @property
    def nudge_frequency(self) -> str: ...

    @property
    def nudge_paused_until(self) -> date | None: ...

    @property
    def nudge_weekday(self) -> int | None: ...

    @property
    def nudge_time(self) -> str | None: ...

    @property
    def start_date(self) -> date | None: ...

    @property
    def welcomed_at(self) -> datetime | None: ...


@cache
def _holidays(country: str, year: int) -> holidays.HolidayBase:
    try:
        return holidays.country_holidays(country, years=year)
    except NotImplementedError:  # a country the package does not know: weekends only
        return holidays.HolidayBase()


@cache
def is_working_day(day: date, country: str) -> bool:
    return day.weekday() < 5 and day not in _holidays(country, day.year)


@cache
def local_instant(day: date, clock: str, zone: str) -> datetime:
    """``clock`` (HH:MM) on ``day`` in time zone ``zone``, as UTC."""
    hours, minutes = (int(part) for part in clock.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def slot(
    person: Nudgeable, day: date, policy: NudgePolicy, *, weekday: int | None = None
) -> datetime:
    """The first working day on or after ``day`` (on ``weekday`` when given, after any pause),
    at the person's local nudge time, in UTC."""
    country = person.country or policy.country
    if person.nudge_paused_until is not None and day <= person.nudge_paused_until:
        day = person.nudge_paused_until + timedelta(days=1)
    while not is_working_day(day, country) or (weekday is not None and day.weekday() != weekday):
        day += timedelta(days=1)
    return local_instant(day, person.nudge_time or policy.time, person.timezone)


def next_checkin_day(
    person: Nudgeable,
    *,
    last_checkin: datetime | None,
    last_nudge: datetime | None,
    today: date,
    policy: NudgePolicy,
) -> date | None:
    """The day the next check-in nudge is planned for (what a home screen shows), by the same
    rules as the scheduler; None when the person asked for no nudges."""
    days = PERIODIC_DAYS.get(person.nudge_frequency)
    if days is None or person.welcomed_at is None:
        return None
    base = max(d for d in (last_checkin, last_nudge, person.welcomed_at) if d is not None)
    target = base.astimezone(ZoneInfo(person.timezone)).date() + timedelta(days=days)
    weekday = person.nudge_weekday if person.nudge_weekday is not None else policy.weekday
    return (
        slot(person, max(target, today), policy, weekday=weekday)
        .astimezone(ZoneInfo(person.timezone))
        .date()
    )

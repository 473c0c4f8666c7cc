""" "My development" at a glance: what a home screen (Slack App Home, later a Teams tab) shows.

Channel-neutral: texts in the person's language, plus the conversations one tap away. The
channel decides the layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, col, select

from dialogs.content import Content
from dialogs.text import shorten
from storage.items import done_in_year, experiments, open_plan_items
from storage.models import CheckIn, ExperimentStatus, Person, Visibility
from storage.privacy import ITEM_TYPES

HOME_ACTIONS = ("reflect", "experiment", "checkin", "plan", "profile", "privacy")
NUDGE_INTERVAL_DAYS = {"weekly": 7, "biweekly": 14, "monthly": 30}
YEARLY_GOAL = 3


@dataclass(frozen=True)
class Summary:
    title: str
    progress: str
    experiments: list[str]
    next_checkin: str
    plan_heading: str
    plan_items: list[str]
    sharing: str
    actions: list[tuple[str, str]]
    """(intent, label) for buttons that start a conversation."""


def next_checkin(person: Person, *, last: date | None, today: date) -> date | None:
    """The day the next check-in nudge is due: one interval after the last check-in (or the
    welcome), never in the past, on a weekday, after any pause. None when nudges are off."""
    days = NUDGE_INTERVAL_DAYS.get(person.nudge_frequency)
    if days is None:
        return None
    start = last or (person.welcomed_at.date() if person.welcomed_at else today)
    due = max(start + timedelta(days=days), today)
    if person.nudge_paused_until is not None and due <= person.nudge_paused_until:
        due = person.nudge_paused_until + timedelta(days=1)
    while due.weekday() >= 5:
        due += timedelta(days=1)
    return due


def build_summary(db: Session, content: Content, person: Person, *, today: date) -> Summary:
    assert person.id is not None
    lang = person.language

    def t(key: str, **values: object) -> str:
        return content.text(lang, key, **values)

    year = today.year
    shown = [
        e
        for e in experiments(db, person.id)
        if e.created_at.year == year
        or e.status in (ExperimentStatus.PLANNED, ExperimentStatus.DOING)
    ]
    lines = [f"{shorten(e.title, 80)} ({t(f'experiment.states.{e.status}')})" for e in shown] or [
        t("home.no_experiments")
    ]
    done = len(done_in_year(db, person.id, year))

    last = db.exec(
        select(CheckIn.created_at)
        .where(CheckIn.person_id == person.id)
        .order_by(col(CheckIn.created_at).desc())
    ).first()
    due = next_checkin(person, last=last.date() if last else None, today=today)
    if due is None:
        checkin_line = t("home.checkin_off")
    else:
        checkin_line = t("home.checkin_next", date=content.date(lang, due))

    total = shared = 0
    for item_type in ITEM_TYPES.values():
        for visibility in db.exec(
            select(item_type.visibility).where(item_type.person_id == person.id)
        ):
            total += 1
            shared += visibility == Visibility.MANAGER
    sharing = t(
        "home.sharing",
        default=t(f"privacy.visibility.{person.default_visibility}"),
        shared=shared,
        total=total,
    )
    plan = [shorten(i.title, 80) for i in open_plan_items(db, person.id)] or [t("home.no_plan")]
    return Summary(
        title=t("home.title"),
        progress=t("experiment.progress", done=done, goal=YEARLY_GOAL, year=year),
        experiments=lines,
        next_checkin=checkin_line,
        plan_heading=t("home.plan_heading"),
        plan_items=plan,
        sharing=sharing,
        actions=[(intent, t(f"home.actions.{intent}")) for intent in HOME_ACTIONS],
    )

""" "My development" at a glance: what a home screen (Slack App Home, later a Teams tab) shows.

Channel-neutral: texts in the person's language, plus the conversations one tap away. The
channel decides the layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, func, select

from dialogs.engine.calendar import NudgePolicy, next_checkin_day
from dialogs.engine.content import Content
from dialogs.engine.text import shorten
from dialogs.flows.experiment import YEARLY_GOAL
from storage.items import (
    done_in_year,
    experiments_of_year,
    last_checkin_at,
    open_plan_items,
    sharing_counts,
)
from storage.models import Outbound, Person

HOME_ACTIONS = ("reflect", "experiment", "checkin", "plan", "growth", "profile", "privacy", "web")
"""The intents of the home's buttons ("web": a sign-in link for the web app, in the chat)."""


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


def build_summary(
    db: Session,
    content: Content,
    person: Person,
    *,
    today: date,
    policy: NudgePolicy | None = None,
) -> Summary:
    assert person.id is not None
    lang = person.language

    def t(key: str, **values: object) -> str:
        return content.text(lang, key, **values)

    year = today.year
    shown = experiments_of_year(db, person, year)
    lines = [f"{shorten(e.title, 80)} ({t(f'experiment.states.{e.status}')})" for e in shown] or [
        t("home.no_experiments")
    ]
    done = len(done_in_year(db, person, year))

    last_checkin = last_checkin_at(db, person.id)
    last_nudge = db.exec(
        select(func.max(Outbound.created_at)).where(
            Outbound.person_id == person.id, Outbound.kind == "checkin"
        )
    ).one()
    due = next_checkin_day(
        person,
        last_checkin=last_checkin,
        last_nudge=last_nudge,
        today=today,
        policy=policy or NudgePolicy(country=person.country),
    )
    if due is None:
        checkin_line = t("home.checkin_off")
    else:
        checkin_line = t("home.checkin_next", date=content.date(lang, due))

    total, shared = sharing_counts(db, person.id)
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

"""An organisation for the HR and admin pages' tests: two hr people (Priya, the growth week's
owner and a campaign author for everyone; Henk), an administrator, a manager and employees in
two departments, one of whom wrote a reflection with a sentinel text no HR page may show."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage import campaign_guardrails as guard
from storage.models import Answer, Person, Role
from storage.privacy import Reader
from tests.web.web_client import Clock, add_person

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
CAMPAIGNS = Path(__file__).resolve().parents[2] / "campaigns"
"""The example campaign files, the templates HR starts from."""
SENTINEL = "SENTINEL-free-text-7f3a"
"""Free text a person wrote: never on an HR or admin page."""


@dataclass(frozen=True)
class HrWorld:
    priya: Person
    henk: Person
    ada: Person
    mia: Person
    ann: Person
    staff: list[Person]


def make_hr_world(engine: Engine, clock: Clock, *, staff: int = 8) -> HrWorld:
    priya = add_person(
        engine,
        email="priya.shah@example.com",
        name="Priya Shah",
        role=Role.HR,
        department="HR",
    )
    henk = add_person(engine, email="henk@example.com", name="Henk HR", role=Role.HR, language="nl")
    ada = add_person(engine, email="ada@example.com", name="Ada Admin", role=Role.ADMIN)
    mia = add_person(
        engine, email="mia@example.com", name="Mia Manager", role=Role.MANAGER, department="Sales"
    )
    ann = add_person(
        engine,
        email="ann@example.com",
        name="Ann de Vries",
        language="nl",
        manager_id=mia.id,
        department="Sales",
    )
    people = [
        add_person(
            engine,
            email=f"staff{n}@example.com",
            name=f"Staff {n}",
            manager_id=mia.id,
            department="Sales" if n % 2 else "Support",
            language="nl" if n % 3 == 0 else "en",
        )
        for n in range(staff)
    ]
    with Session(engine) as db:
        db.add(
            Answer(
                person_id=ann.id or 0,
                dialog_id="reflection",
                question_id="energy-source",
                text=SENTINEL,
                created_at=clock.now - timedelta(days=3),
            )
        )
        for hr in (priya, henk):  # campaign authors for everyone
            author = db.get(Person, hr.id)
            assert author is not None
            guard.set_scope(
                db,
                author,
                guard.Scope.parse("all"),
                actor=Reader.administrator("test"),
                now=clock.now,
            )
        db.commit()
    return HrWorld(priya, henk, ada, mia, ann, people)


def csrf(page: str) -> str:
    found = CSRF.search(page)
    assert found is not None, "no csrf token on the page"
    return found.group(1)

"""The files of "download my data": the complete export as JSON, and "My development", a
one-page, printable HTML summary (profile, learning record, plan, experiments and their
lessons) in the person's language — the skills passport the seeds ask for. No request is
needed to build them, so ``/download/{token}`` serves them and the console writes them to
disk.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.web.templating import Words, environment
from dialogs.engine.content import Content
from storage import links
from storage.learning import clean_link, learning_record
from storage.models import (
    Experiment,
    ExperimentStatus,
    LinkPurpose,
    Person,
    PlanItem,
    PlanStatus,
    ProfileEntry,
    ProfileKind,
)
from storage.personal_data import export_person


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content_type: str
    body: bytes


def build(
    db: Session, person: Person, purpose: LinkPurpose, *, now: datetime, content: Content
) -> ExportFile:
    """The file a download link of ``purpose`` gives ``person``."""
    day = now.date().isoformat()
    if purpose == LinkPurpose.DOWNLOAD_JSON:
        data = export_person(db, person, now=now)
        body = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
        name = f"regie-data-{_slug(person.name)}-{day}.json"
        return ExportFile(name, "application/json; charset=utf-8", body)
    if purpose == LinkPurpose.DOWNLOAD_PAGE:
        page = my_development(db, person, now=now, content=content)
        name = f"my-development-{_slug(person.name)}-{day}.html"
        return ExportFile(name, "text/html; charset=utf-8", page.encode("utf-8"))
    raise ValueError(f"{purpose} is not a download")


def redeem_file(
    engine: Engine,
    token: str,
    *,
    now: datetime,
    content: Content,
    via: str,
    purposes: tuple[LinkPurpose, ...] = links.DOWNLOADS,
) -> ExportFile | None:
    """Use a download link and build its file, in one transaction: the link is spent (and
    the download audited) only when the file was made. None: no such usable link."""
    with Session(engine) as db:
        used = links.redeem(db, token, purposes, now=now, detail={"via": via})
        person = db.get(Person, used.person_id) if used is not None else None
        if used is None or person is None:
            db.rollback()
            return None
        found = build(db, person, used.purpose, now=now, content=content)
        db.commit()
        return found


def language_of_link(engine: Engine, token: str, default: str) -> str:
    """The language of the person a link was made for (used or not), else ``default``."""
    with Session(engine) as db:
        owner = db.get(Person, links.owner_of(db, token) or 0)
        return owner.language if owner is not None else default


def my_development(db: Session, person: Person, *, now: datetime, content: Content) -> str:
    """The "My development" page: everything in it is the person's own, private or shared."""
    assert person.id is not None

    mine = person.id
    profile = db.exec(
        select(ProfileEntry)
        .where(ProfileEntry.person_id == mine)
        .order_by(col(ProfileEntry.created_at), col(ProfileEntry.id))
    ).all()
    plan = db.exec(
        select(PlanItem)
        .where(PlanItem.person_id == mine)
        .order_by(col(PlanItem.created_at), col(PlanItem.id))
    ).all()
    experiments = db.exec(
        select(Experiment)
        .where(Experiment.person_id == mine)
        .order_by(col(Experiment.created_at), col(Experiment.id))
    ).all()
    words = Words(content, person.language, person.timezone)
    template = environment().get_template("my_development.html")
    return template.render(
        words.context()
        | {
            "person": person,
            "exported_at": now,
            "profile": {kind: [e for e in profile if e.kind == kind] for kind in ProfileKind},
            "learning": learning_record(db, mine),
            "safe_link": clean_link,
            "plan_open": [p for p in plan if p.status == PlanStatus.OPEN],
            "plan_done": [p for p in plan if p.status == PlanStatus.DONE],
            "experiments": [e for e in experiments if e.status != ExperimentStatus.DROPPED],
        }
    )


def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:40] or "me"

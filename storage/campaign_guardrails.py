"""Who may launch campaigns to whom, and every launch as it was previewed and approved.

Campaign authors are hr people with an audience scope (``campaign_author``): everyone, or the
people of some departments or countries, set by an administrator. Each launch or edit of a
campaign is a ``campaign_launch`` row: the exact file data and its hash, the audience size,
who asked and, when it needed a second person, who approved or declined it and when. A newer
request for the same campaign supersedes a pending one; nobody approves their own. Every change
is audited with who made it (``storage.privacy.Reader``: a person, or an administrator at the
command line).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from storage.campaigns import without_address
from storage.models import AuditEntry, CampaignAuthor, CampaignLaunch, LaunchState, Person
from storage.privacy import Reader

EVERYONE = "all"


class ScopeError(ValueError):
    """A scope written in a way that cannot be read."""


@dataclass(frozen=True)
class Scope:
    """Whom an author may reach alone: everyone, or anyone in one of ``departments`` or one
    of ``countries``."""

    everyone: bool = False
    departments: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, text: str) -> Scope:
        """``all``, or ``department:Sales,country:BE,…`` (a department as written in the
        people file; a country as its two-letter code)."""
        cleaned = text.strip()
        if cleaned.lower() == EVERYONE:
            return cls(everyone=True)
        departments: set[str] = set()
        countries: set[str] = set()
        for part in (p.strip() for p in cleaned.split(",")):
            kind, _, value = part.partition(":")
            value = value.strip()
            if kind.strip().lower() == "department" and value:
                departments.add(value)
            elif kind.strip().lower() == "country" and len(value) == 2 and value.isalpha():
                countries.add(value.upper())
            else:
                raise ScopeError(
                    f"{part!r}: write 'all', or department:NAME and country:CODE separated by "
                    "commas (e.g. department:Sales,country:BE)"
                )
        if not departments and not countries:
            raise ScopeError("the scope is empty: write 'all' or at least one department:/country:")
        return cls(departments=frozenset(departments), countries=frozenset(countries))

    def covers(self, person: Person) -> bool:
        return (
            self.everyone
            or person.department in self.departments
            or (person.country or "").upper() in self.countries
        )

    def covers_all(self, people: Iterable[Person]) -> bool:
        return self.everyone or all(self.covers(person) for person in people)

    def __str__(self) -> str:
        if self.everyone:
            return EVERYONE
        parts = [f"department:{d}" for d in sorted(self.departments)]
        return ",".join(parts + [f"country:{c}" for c in sorted(self.countries)])


def _audit(
    db: Session,
    actor: Reader,
    action: str,
    at: datetime,
    detail: dict[str, Any],
    subject: int | None = None,
) -> None:
    db.add(
        AuditEntry(
            at=at,
            actor_id=actor.person_id,
            subject_id=subject,
            action=action,
            detail=actor.detail() | detail,
        )
    )


# -- authors -----------------------------------------------------------------------------------


def _author_row(db: Session, person_id: int) -> CampaignAuthor | None:
    return db.exec(select(CampaignAuthor).where(CampaignAuthor.person_id == person_id)).first()


def scope_of(db: Session, person_id: int) -> Scope | None:
    """The person's author scope; None when they are no campaign author."""
    row = _author_row(db, person_id)
    if row is None:
        return None
    return Scope(row.everyone, frozenset(row.departments), frozenset(row.countries))


def set_scope(db: Session, person: Person, scope: Scope, *, actor: Reader, now: datetime) -> None:
    assert person.id is not None
    row = _author_row(db, person.id) or CampaignAuthor(person_id=person.id)
    row.everyone = scope.everyone
    row.departments = sorted(scope.departments)
    row.countries = sorted(scope.countries)
    row.updated_at = now
    db.add(row)
    _audit(db, actor, "campaign_author_set", now, {"scope": str(scope)}, subject=person.id)


def remove_author(db: Session, person: Person, *, actor: Reader, now: datetime) -> bool:
    """False when they were no author."""
    assert person.id is not None
    row = _author_row(db, person.id)
    if row is None:
        return False
    db.delete(row)
    _audit(db, actor, "campaign_author_removed", now, {}, subject=person.id)
    return True


def authors(db: Session) -> list[tuple[Person, Scope]]:
    query = (
        select(Person, CampaignAuthor)
        .where(col(CampaignAuthor.person_id) == col(Person.id))
        .order_by(col(Person.email))
    )
    return [
        (person, Scope(row.everyone, frozenset(row.departments), frozenset(row.countries)))
        for person, row in db.exec(query)
    ]


# -- launches ----------------------------------------------------------------------------------


def record_launch(
    db: Session,
    *,
    slug: str,
    spec: dict[str, Any],
    spec_hash: str,
    audience: int,
    reasons: Sequence[str],
    requested_by: Reader,
    now: datetime,
) -> CampaignLaunch:
    """A launch as previewed: pending when ``reasons`` says it needs a second person (an older
    pending request for the same campaign is superseded), else launched by its author."""
    for older in pending(db, slug=slug):
        older.state, older.decided_at = LaunchState.SUPERSEDED, now
        db.add(older)
    row = CampaignLaunch(
        slug=slug,
        spec=spec,
        spec_hash=spec_hash,
        audience=audience,
        reasons=list(reasons),
        state=LaunchState.PENDING if reasons else LaunchState.LAUNCHED,
        requested_by_id=requested_by.person_id,
        requested_at=now,
    )
    db.add(row)
    db.flush()
    action = "campaign_approval_requested" if reasons else "campaign_launched"
    detail = {"campaign": slug, "launch": row.id, "hash": spec_hash, "audience": audience}
    _audit(db, requested_by, action, now, detail | {"reasons": list(reasons)})
    return row


class SelfApproval(ValueError):
    """The person who asked for a launch cannot also approve it."""


def decide(
    db: Session,
    row: CampaignLaunch,
    *,
    approve: bool,
    by: Reader,
    now: datetime,
    campaign_id: int | None = None,
) -> None:
    """Approve (with the campaign it launched) or decline a pending launch."""
    if row.state != LaunchState.PENDING:
        raise ValueError(f"launch {row.id} is {row.state}, not pending")
    if by.person_id is not None and by.person_id == row.requested_by_id:
        raise SelfApproval(f"launch {row.id} was asked for by the same person")
    row.state = LaunchState.APPROVED if approve else LaunchState.DECLINED
    row.decided_by_id, row.decided_at = by.person_id, now
    if campaign_id is not None:
        row.campaign_id = campaign_id
    db.add(row)
    action = "campaign_approved" if approve else "campaign_declined"
    _audit(db, by, action, now, {"campaign": row.slug, "launch": row.id, "hash": row.spec_hash})


def launched(db: Session, row: CampaignLaunch, campaign_id: int) -> None:
    """The campaign an author's own launch created or changed."""
    row.campaign_id = campaign_id
    db.add(row)


def pending(db: Session, *, slug: str | None = None) -> list[CampaignLaunch]:
    query = select(CampaignLaunch).where(CampaignLaunch.state == LaunchState.PENDING)
    if slug is not None:
        query = query.where(CampaignLaunch.slug == slug)
    return list(db.exec(query.order_by(col(CampaignLaunch.id))))


def history(db: Session, slug: str) -> list[CampaignLaunch]:
    """Every launch and edit of the campaign asked for, oldest first."""
    query = select(CampaignLaunch).where(CampaignLaunch.slug == slug)
    return list(db.exec(query.order_by(col(CampaignLaunch.id))))


# -- one person's rows (export and forgetting) -------------------------------------------------


def rows_of(db: Session, person_id: int) -> dict[str, list[Any]]:
    """The person's author scope and the launches they asked for or decided on."""
    asked_or_decided = (col(CampaignLaunch.requested_by_id) == person_id) | (
        col(CampaignLaunch.decided_by_id) == person_id
    )
    launches = select(CampaignLaunch).where(asked_or_decided).order_by(col(CampaignLaunch.id))
    author = select(CampaignAuthor).where(CampaignAuthor.person_id == person_id)
    return {"campaign_author": list(db.exec(author)), "campaign_launch": list(db.exec(launches))}


def forget(db: Session, person_id: int, email: str) -> None:
    """Their author scope goes; the launches they asked for or decided on stay (the fact of
    it), without them, and without their e-mail in the stored file data."""
    db.exec(delete(CampaignAuthor).where(col(CampaignAuthor.person_id) == person_id))
    for column in (CampaignLaunch.requested_by_id, CampaignLaunch.decided_by_id):
        db.exec(update(CampaignLaunch).where(col(column) == person_id).values({column: None}))
    address = email.strip().lower()
    for row in db.exec(select(CampaignLaunch)):
        spec = without_address(row.spec, address)
        if spec != row.spec:
            row.spec = spec
            db.add(row)

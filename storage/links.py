"""One-time links: the one mechanism behind "download my data" and signing in on the web.

A link is a random token (``secrets.token_urlsafe(32)``) given to one person for one purpose
(:class:`~storage.models.LinkPurpose`). Only its SHA-256 is stored, so the database alone
cannot make a working link. A link works once (:func:`redeem` is one ``UPDATE … WHERE used_at
IS NULL AND expires_at > now RETURNING``: of two simultaneous uses only one wins, on SQLite
and PostgreSQL), only for its purpose, and only until it expires: a download after 15 minutes
at most, a sign-in after 10. A person gets at most :data:`PER_HOUR` links an hour per purpose.

Every use is audited on the person's own record (actor and subject both the person), so "who
has seen my data" shows "you downloaded your data" and "you signed in on the web".

A purpose's :data:`RULES` say all of that per purpose. One purpose differs, and says so there:
a workshop's calendar file (``calendar``) works as often as it is fetched (calendar apps and
link previews fetch twice) until the workshop ends, and is not audited — it holds the
workshop's time and place, nobody's data.

A link that works once must survive being looked at: mail and chat security scanners (for
example Microsoft Safe Links) open links before the person does. So opening such a link
only looks at it (:func:`peek`: whose, what for, still usable?) and a page asks the person to
press a button; that press (a POST) is what uses it (:func:`redeem`; ``bot/web/signin.py``,
``bot/web/download.py``).

Links that can no longer be used are removed once they fall outside the hourly rate window:
the person's own on each new link, everyone's by the retention job (:func:`prune`).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, update
from sqlmodel import Session, col, select

from storage.models import AuditEntry, LinkPurpose, OneTimeLink


@dataclass(frozen=True)
class Rules:
    """What a link of one purpose may do."""

    ttl: timedelta
    """How long it works at most (a shorter ``ttl`` may be asked for when it is issued)."""
    once: bool = True
    """Works once; otherwise as often as asked until it expires. On the web a link that works
    once is used by pressing the button its page shows (a POST), never by opening it (a GET,
    as scanners do); one that works more often is used by opening it."""
    audit: str | None = None
    """The audit action each use writes (what "who has seen my data" shows); None: a use
    shows nobody's data and is not audited."""
    per_hour: int = 5
    """Links one person may be given of this purpose in any hour."""


RULES: dict[LinkPurpose, Rules] = {
    LinkPurpose.DOWNLOAD_JSON: Rules(timedelta(minutes=15), audit="download"),
    LinkPurpose.DOWNLOAD_PAGE: Rules(timedelta(minutes=15), audit="download"),
    LinkPurpose.SIGN_IN: Rules(timedelta(minutes=10), audit="web_sign_in"),
    # Until the workshop ends (the issuer asks for that ``ttl``), fetched as often as needed;
    # one a confirmation, so a person signing up for many workshops needs more than five.
    LinkPurpose.CALENDAR: Rules(timedelta(days=400), once=False, per_hour=30),
}
TTL: dict[LinkPurpose, timedelta] = {purpose: rules.ttl for purpose, rules in RULES.items()}
PER_HOUR = RULES[LinkPurpose.SIGN_IN].per_hour
"""Links one person may be given per purpose in any hour (downloads and sign-ins)."""
RATE_WINDOW = timedelta(hours=1)
REUSABLE = [str(purpose) for purpose, rules in RULES.items() if not rules.once]
DOWNLOADS = (LinkPurpose.DOWNLOAD_JSON, LinkPurpose.DOWNLOAD_PAGE)


class TooManyLinks(Exception):
    """The person had :data:`PER_HOUR` links of this purpose in the last hour."""

    def __init__(self, purpose: LinkPurpose, retry_at: datetime) -> None:
        super().__init__(f"too many {purpose} links; the next one at {retry_at.isoformat()}")
        self.purpose = purpose
        self.retry_at = retry_at


@dataclass(frozen=True)
class IssuedLink:
    """A new link: ``token`` goes into the URL and is stored nowhere."""

    token: str
    purpose: LinkPurpose
    expires_at: datetime


@dataclass(frozen=True)
class Redeemed:
    """A link that was just used: whose it was and what for."""

    person_id: int
    purpose: LinkPurpose
    subject: str | None = None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue(
    db: Session,
    person_id: int,
    purpose: LinkPurpose,
    *,
    now: datetime,
    ttl: timedelta | None = None,
    subject: str | None = None,
) -> IssuedLink:
    """A new link for ``person_id``, working until ``now + ttl`` (at most the purpose's
    ``ttl`` in :data:`RULES`). Raises :class:`TooManyLinks` past the purpose's hourly limit.
    Links of this person that can no longer be used and fall outside the rate window are
    removed on the way."""
    rules = RULES[purpose]
    lifetime = min(ttl, rules.ttl) if ttl is not None else rules.ttl
    since = now - RATE_WINDOW
    db.exec(delete(OneTimeLink).where(col(OneTimeLink.person_id) == person_id, _dead(now)))
    recent = list(
        db.exec(
            select(OneTimeLink.created_at)
            .where(
                OneTimeLink.person_id == person_id,
                OneTimeLink.purpose == purpose,
                col(OneTimeLink.created_at) > since,
            )
            .order_by(col(OneTimeLink.created_at))
        )
    )
    if len(recent) >= rules.per_hour:
        raise TooManyLinks(purpose, retry_at=recent[len(recent) - rules.per_hour] + RATE_WINDOW)
    token = secrets.token_urlsafe(32)
    link = OneTimeLink(
        token_hash=token_hash(token),
        person_id=person_id,
        purpose=purpose,
        created_at=now,
        expires_at=now + lifetime,
        subject=subject,
    )
    db.add(link)
    db.flush()
    return IssuedLink(token=token, purpose=purpose, expires_at=link.expires_at)


def redeem(
    db: Session,
    token: str,
    purposes: Collection[LinkPurpose],
    *,
    now: datetime,
    detail: dict[str, Any] | None = None,
) -> Redeemed | None:
    """Use the link: its owner and purpose, or None when it is unknown, used (for a purpose
    that works once), expired or meant for something else (a link of another purpose stays
    usable for that purpose). One statement marks it used, so two simultaneous uses of a
    link that works once cannot both succeed. The use is audited on the owner's own record,
    with ``detail`` (e.g. where it was used), when its purpose's rules say so."""
    if not token or not purposes:
        return None
    row = db.exec(
        update(OneTimeLink)
        .where(_usable(token, purposes, now))
        .values(used_at=now)
        .returning(col(OneTimeLink.person_id), col(OneTimeLink.purpose), col(OneTimeLink.subject))
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        return None
    person_id, purpose = int(row[0]), LinkPurpose(row[1])
    action = RULES[purpose].audit
    if action is not None:
        db.add(
            AuditEntry(
                at=now,
                actor_id=person_id,
                subject_id=person_id,
                action=action,
                detail={"what": str(purpose)} | dict(detail or {}),
            )
        )
        db.flush()
    return Redeemed(person_id=person_id, purpose=purpose, subject=row[2])


def peek(
    db: Session, token: str, purposes: Collection[LinkPurpose], *, now: datetime
) -> Redeemed | None:
    """What :func:`redeem` would give now, without using the link or auditing anything (for
    the page that asks the person to press the button: a scanner that opens the link spends
    nothing). Only :func:`redeem` decides: the link may be used by then."""
    if not token or not purposes:
        return None
    row = db.exec(
        select(OneTimeLink.person_id, OneTimeLink.purpose, OneTimeLink.subject).where(
            _usable(token, purposes, now)
        )
    ).first()
    if row is None:
        return None
    return Redeemed(person_id=int(row[0]), purpose=LinkPurpose(row[1]), subject=row[2])


def _usable(token: str, purposes: Collection[LinkPurpose], now: datetime) -> Any:
    """The link with this token, of one of ``purposes``, unexpired and not spent."""
    return and_(
        col(OneTimeLink.token_hash) == token_hash(token),
        col(OneTimeLink.purpose).in_([str(p) for p in purposes]),
        or_(col(OneTimeLink.used_at).is_(None), col(OneTimeLink.purpose).in_(REUSABLE)),
        col(OneTimeLink.expires_at) > now,
    )


def _dead(now: datetime) -> Any:
    """Links that can no longer be used (expired, or spent when they work once) and no
    longer count towards the hourly limit."""
    spent = and_(col(OneTimeLink.used_at).is_not(None), col(OneTimeLink.purpose).not_in(REUSABLE))
    return and_(
        col(OneTimeLink.created_at) < now - RATE_WINDOW,
        or_(spent, col(OneTimeLink.expires_at) <= now),
    )


def prune(db: Session, *, now: datetime) -> int:
    """Remove everyone's links that can no longer be used (the retention job); how many.
    Their uses stay in the audit log ("who has seen my data")."""
    return int(db.connection().execute(delete(OneTimeLink).where(_dead(now))).rowcount)


def owner_of(db: Session, token: str) -> int | None:
    """Whose link this was, used or not (to answer a stale link in their language)."""
    return db.exec(
        select(OneTimeLink.person_id).where(OneTimeLink.token_hash == token_hash(token))
    ).first()


def links_of(db: Session, person_id: int) -> list[dict[str, Any]]:
    """The person's links for an export: purpose and times, never the token's hash."""
    rows = db.exec(
        select(OneTimeLink)
        .where(OneTimeLink.person_id == person_id)
        .order_by(col(OneTimeLink.created_at), col(OneTimeLink.id))
    )
    return [
        {
            "purpose": str(row.purpose),
            "created_at": row.created_at.isoformat(),
            "expires_at": row.expires_at.isoformat(),
            "used_at": row.used_at.isoformat() if row.used_at else None,
        }
        for row in rows
    ]


def forget(db: Session, person_id: int) -> None:
    db.exec(delete(OneTimeLink).where(col(OneTimeLink.person_id) == person_id))

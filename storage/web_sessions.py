"""Signed-in browsers of the web app (``bot/web/sessions.py`` sets the cookie).

Sessions live in the database so every replica behind a load balancer knows them. The cookie
holds a random id (``secrets.token_urlsafe(32)``); only its SHA-256 is stored. A session ends
after :data:`IDLE` without a request and at the latest :data:`LIFETIME` after sign-in. Every
sign-in starts a new session (a new id: a session id planted before sign-in is worth nothing).
Expired sessions are removed at every sign-in and by the retention job (:func:`prune`).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from storage.models import WebSession

IDLE = timedelta(hours=2)
LIFETIME = timedelta(hours=12)
TOUCH_EVERY = timedelta(minutes=1)
"""``last_seen_at`` is written at most this often (not on every request)."""


@dataclass(frozen=True)
class Started:
    """A new session: ``session_id`` goes into the cookie and is stored nowhere."""

    session_id: str
    session: WebSession


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def start(db: Session, person_id: int, *, now: datetime) -> Started:
    """A new session for the person (expired sessions of anyone are removed on the way)."""
    prune(db, now=now)
    session_id = secrets.token_urlsafe(32)
    session = WebSession(
        id_hash=_hash(session_id),
        person_id=person_id,
        csrf_secret=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=min(now + IDLE, now + LIFETIME),
    )
    db.add(session)
    db.flush()
    return Started(session_id=session_id, session=session)


def find(db: Session, session_id: str, *, now: datetime) -> WebSession | None:
    """The live session with this id, its idle time reset; None if unknown or expired."""
    if not session_id:
        return None
    session = db.exec(select(WebSession).where(WebSession.id_hash == _hash(session_id))).first()
    if session is None or session.expires_at <= now:
        return None
    if now - session.last_seen_at >= TOUCH_EVERY:
        session.last_seen_at = now
        session.expires_at = min(now + IDLE, session.created_at + LIFETIME)
        db.add(session)
    return session


def end(db: Session, session_id: str) -> None:
    """Sign out: the session is deleted (its cookie no longer works anywhere)."""
    db.exec(delete(WebSession).where(col(WebSession.id_hash) == _hash(session_id)))


def prune(db: Session, *, now: datetime) -> int:
    """Remove every expired session (at each sign-in and by the retention job); how many."""
    statement = delete(WebSession).where(col(WebSession.expires_at) <= now)
    return int(db.connection().execute(statement).rowcount)


def sessions_of(db: Session, person_id: int) -> list[dict[str, Any]]:
    """The person's sessions for an export: times only, never the id's hash or CSRF secret."""
    rows = db.exec(
        select(WebSession)
        .where(WebSession.person_id == person_id)
        .order_by(col(WebSession.created_at), col(WebSession.id))
    )
    return [
        {
            "created_at": row.created_at.isoformat(),
            "last_seen_at": row.last_seen_at.isoformat(),
            "expires_at": row.expires_at.isoformat(),
        }
        for row in rows
    ]


def forget(db: Session, person_id: int) -> None:
    """Every session of the person ends (deletion of the person, or sign out everywhere)."""
    db.exec(delete(WebSession).where(col(WebSession.person_id) == person_id))

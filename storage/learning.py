"""The learning record: courses, trainings, certificates and informal learning (shadowing,
mentoring), each with what the person took from it. Entries are personal items
(:class:`~storage.models.LearningEntry`, private by default), so sharing, export, deletion and
retention cover them like every other item. HR sees only counts of people per kind
(``storage.reports``), never a title."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlmodel import Session, col, select

from storage.models import LearningEntry, LearningKind

MAX_LINK = 500
MAX_TITLE = 300
KINDS = tuple(LearningKind)


def clean_link(text: str) -> str | None:
    """The address if it is a plain http(s) link with a host (no spaces, no other scheme such
    as ``javascript:`` or ``file:``), else None."""
    link = text.strip()
    if not link or len(link) > MAX_LINK or any(c.isspace() for c in link):
        return None
    try:
        parts = urlsplit(link)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return link


def learning_record(db: Session, person_id: int) -> list[LearningEntry]:
    """The person's own learning record, most recent first (by the date learned, else when it
    was noted): what "My development" and the skills passport list."""
    entries = list(
        db.exec(
            select(LearningEntry)
            .where(LearningEntry.person_id == person_id)
            .order_by(col(LearningEntry.created_at).desc(), col(LearningEntry.id).desc())
        )
    )
    entries.sort(key=lambda e: e.learned_on or e.created_at.date(), reverse=True)
    return entries

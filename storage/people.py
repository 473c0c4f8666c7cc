"""Finding people, and enrolling someone the bot has not met yet."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, col, select

from storage.models import Person


def normalise_email(email: str) -> str:
    return email.strip().lower()


def by_email(db: Session, email: str) -> Person | None:
    return db.exec(select(Person).where(Person.email == normalise_email(email))).first()


def direct_reports(db: Session, manager_id: int) -> list[Person]:
    """The people whose manager this is, by name: the one query for "direct reports of"."""
    return list(
        db.exec(select(Person).where(Person.manager_id == manager_id).order_by(col(Person.name)))
    )


def managers(db: Session) -> list[Person]:
    """Everyone who has at least one direct report."""
    has_reports = select(Person.manager_id).where(col(Person.manager_id).is_not(None))
    return list(db.exec(select(Person).where(col(Person.id).in_(has_reports))))


def manages_anyone(db: Session, person_id: int) -> bool:
    return db.exec(select(Person.id).where(Person.manager_id == person_id)).first() is not None


def first_name(name: str) -> str:
    """What the bot calls someone: the first word of their name ("" for a blank name)."""
    words = name.split()
    return words[0] if words else ""


def name_from_email(email: str) -> str:
    """A friendly first guess ("ana.de.vries@…" -> "Ana De Vries"); people can change it."""
    local = normalise_email(email).split("@")[0]
    words = [w for w in local.replace("_", ".").replace("-", ".").split(".") if w]
    return " ".join(w.capitalize() for w in words) or local


def enrol(
    db: Session,
    *,
    email: str,
    name: str | None,
    language: str,
    timezone: str,
    country: str,
    now: datetime,
) -> Person:
    """Create a person on first contact (open enrolment); they start with the welcome."""
    person = Person(
        email=normalise_email(email),
        name=name or name_from_email(email),
        language=language,
        timezone=timezone,
        country=country,
        created_at=now,
    )
    db.add(person)
    db.flush()
    return person


def valid_timezone(name: str | None) -> str | None:
    """``name`` if it is a time zone this machine knows (platform profiles can hold anything)."""
    try:
        return name if name and ZoneInfo(name) else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def language_from_locale(locale: str | None, default: str) -> str:
    """Dutch for any Dutch locale (nl-NL, nl-BE), English for any other, else the default."""
    if not locale:
        return default
    return "nl" if locale.lower().startswith("nl") else "en"


def everyone(db: Session) -> list[Person]:
    return list(db.exec(select(Person).order_by(col(Person.department), col(Person.name))))


def all_names(db: Session) -> list[str]:
    """Everyone's name: what is masked before any text goes to an AI model."""
    return [name for name in db.exec(select(Person.name)) if name]


def by_slack_id(db: Session, slack_user_id: str) -> Person | None:
    """The person linked to this Slack user (``regie slack sync``, or their first message)."""
    return db.exec(select(Person).where(Person.slack_user_id == slack_user_id)).first()


def by_teams_id(db: Session, teams_aad_id: str) -> Person | None:
    """The person linked to this Teams user (AAD object id, or ``bf:<account id>``)."""
    return db.exec(select(Person).where(Person.teams_aad_id == teams_aad_id)).first()


def preferred_language(db: Session, person_id: int | None, default: str) -> str:
    """A person's language, or ``default`` for someone unknown (or deleted meanwhile)."""
    person = db.get(Person, person_id) if person_id is not None else None
    return person.language if person is not None else default


def set_preferences(
    db: Session,
    person: Person,
    *,
    language: str | None = None,
    timezone: str | None = None,
    nudge_frequency: str | None = None,
) -> None:
    """The person's own settings, as chat and web both change them (validated by the caller:
    ``dialogs/flows/preferences.py`` has the rules); ``None`` leaves a setting as it is."""
    if language is not None:
        person.language = language
    if timezone is not None:
        person.timezone = timezone
    if nudge_frequency is not None:
        person.nudge_frequency = nudge_frequency
    db.add(person)


def pause_nudges(db: Session, person: Person, until: date | None) -> None:
    """No nudges until ``until`` (inclusive), or nudges again from now when None: "pause" and
    "resume" in chat and on the web."""
    person.nudge_paused_until = until
    db.add(person)

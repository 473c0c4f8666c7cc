"""Teams user -> person: by AAD object id (memory, then ``person.teams_aad_id``), then once by
e-mail from ``TeamsInfo.get_member`` to an imported person, else enrolled when open enrolment
is on (name, e-mail, locale -> language, the client's time zone).

Until someone is welcomed, the time zone of their Teams client (``localTimezone``, or the
``clientInfo`` entity) is what the welcome proposes: it is where they are, which an imported
default may not say; they confirm or correct it there."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from bot.config import Settings
from storage.db import session_scope
from storage.models import Person, utcnow
from storage.people import by_email, by_teams_id, enrol, language_from_locale, valid_timezone

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TeamsUser:
    key: str
    """The AAD object id, or ``bf:<channel account id>`` when the client sends none."""
    name: str | None
    email: str | None
    locale: str | None
    timezone: str | None


class NotEnrolled(LookupError):
    pass


class TeamsPeople:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self._ids: dict[str, int] = {}
        self._lock = threading.Lock()

    def remembered(self, key: str) -> int | None:
        """From memory only: no database, safe on the event loop."""
        with self._lock:
            return self._ids.get(key)

    def cached(self, key: str) -> int | None:
        with self._lock:
            if key in self._ids:
                return self._ids[key]
        with session_scope(self.engine) as db:
            person = by_teams_id(db, key)
            found = person.id if person else None
        if found is not None:
            self._remember(key, found)
        return found

    def forget(self, key: str) -> None:
        with self._lock:
            self._ids.pop(key, None)

    def link_or_enrol(self, user: TeamsUser) -> int:
        with session_scope(self.engine) as db:
            person = by_email(db, user.email) if user.email else None
            if person is not None:
                log.info("linked a Teams user to person %s by e-mail", person.id)
                _propose_timezone(person, user.timezone)
            elif not self.settings.open_enrolment:
                raise NotEnrolled(user.key)
            else:
                person = enrol(
                    db,
                    email=user.email or f"{user.key.replace(':', '-')}@teams.invalid",
                    name=user.name,
                    language=language_from_locale(user.locale, self.settings.language),
                    timezone=valid_timezone(user.timezone) or self.settings.timezone,
                    country=self.settings.holidays_country,
                    now=utcnow(),
                )
                log.info("enrolled a Teams user as person %s", person.id)
            person.teams_aad_id = user.key
            db.add(person)
            db.flush()
            assert person.id is not None
            found = person.id
        self._remember(user.key, found)
        return found

    def propose_timezone(self, person_id: int, zone: str | None) -> None:
        """Someone not welcomed yet gets their client's time zone proposed in the welcome."""
        if not valid_timezone(zone):
            return
        with session_scope(self.engine) as db:
            person = db.get(Person, person_id)
            if person is not None and _propose_timezone(person, zone):
                db.add(person)

    def _remember(self, key: str, person_id: int) -> None:
        with self._lock:
            self._ids[key] = person_id


def _propose_timezone(person: Person, zone: str | None) -> bool:
    found = valid_timezone(zone)
    if person.welcomed_at is not None or not found or person.timezone == found:
        return False
    person.timezone = found
    return True

"""Slack user -> person. Known ids come from memory or the ``slack_user_id`` column; a new user
is looked up once with ``users.info`` and matched by e-mail to an imported person, or enrolled
from their Slack profile when open enrolment is on. ``users.lookupByEmail`` is never used."""

from __future__ import annotations

import logging
import threading
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.config import Settings
from storage.db import session_scope
from storage.models import Person, utcnow
from storage.people import by_email, by_slack_id, enrol, language_from_locale, valid_timezone

log = logging.getLogger(__name__)


class NotEnrolled(LookupError):
    """Unknown to Regie, and open enrolment is off."""


class SlackPeople:
    def __init__(self, engine: Engine, client: WebClient, settings: Settings) -> None:
        self.engine = engine
        self.client = client
        self.settings = settings
        self._ids: dict[str, int] = {}
        self._lock = threading.Lock()

    def forget(self, user_id: str) -> None:
        with self._lock:
            self._ids.pop(user_id, None)

    def forget_workspace(self) -> int:
        """Regie left the workspace: every person's Slack account is forgotten (delivery stops
        trying Slack for them). How many there were."""
        with self._lock:
            self._ids.clear()
        with session_scope(self.engine) as db:
            linked = db.exec(select(Person).where(col(Person.slack_user_id).is_not(None))).all()
            for person in linked:
                person.slack_user_id = None
                db.add(person)
            return len(linked)

    def person_id(self, user_id: str) -> int:
        with self._lock:
            cached = self._ids.get(user_id)
        if cached is not None:
            return cached
        with session_scope(self.engine) as db:
            person = by_slack_id(db, user_id)
            found = person.id if person is not None else None
        if found is None:
            user = self._user_info(user_id)  # Slack is asked with no transaction open
            with session_scope(self.engine) as db:
                person = by_slack_id(db, user_id)
                if person is None:  # (unless another request linked them meanwhile)
                    person = self._link_or_enrol(db, user_id, user)
                found = person.id
        assert found is not None
        with self._lock:
            self._ids[user_id] = found
        return found

    def _link_or_enrol(self, db: Session, user_id: str, user: dict[str, Any]) -> Person:
        profile: dict[str, Any] = user.get("profile", {})
        email = profile.get("email")
        person = by_email(db, email) if email else None
        if person is not None:
            person.slack_user_id = user_id
            db.add(person)
            log.info("linked Slack user %s to person %s by e-mail", user_id, person.id)
            return person
        if not self.settings.open_enrolment:
            raise NotEnrolled(user_id)
        person = enrol(
            db,
            email=email or f"{user_id.lower()}@slack.invalid",
            name=profile.get("real_name") or user.get("real_name") or user.get("name"),
            language=language_from_locale(user.get("locale"), self.settings.language),
            timezone=valid_timezone(user.get("tz")) or self.settings.timezone,
            country=self.settings.holidays_country,
            now=utcnow(),
        )
        person.slack_user_id = user_id
        db.add(person)
        log.info("enrolled Slack user %s as person %s", user_id, person.id)
        return person

    def _user_info(self, user_id: str) -> dict[str, Any]:
        try:
            response = self.client.users_info(user=user_id, include_locale=True)
        except SlackApiError as error:
            log.warning("users.info failed for %s: %s", user_id, error.response.get("error"))
            return {}
        user = response.get("user")
        return user if isinstance(user, dict) else {}

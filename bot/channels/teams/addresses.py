"""Where a person's Teams chat is: the conversation reference, stored (``channel_address``) on
install and refreshed on a turn when it changed, for proactive messages."""

from __future__ import annotations

from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity
from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.addresses import address_of, forget_address, save_address
from storage.db import session_scope
from storage.models import utcnow

CHANNEL = "teams"


class Addresses:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._saved: dict[int, tuple[str | None, ...]] = {}
        """Per person, what identifies their stored conversation reference (a cheap comparison
        on every turn; the reference is serialised and stored only when it changed)."""

    def changed(self, person_id: int, activity: Activity) -> bool:
        return self._saved.get(person_id) != where(activity)

    def remember(self, person_id: int, activity: Activity) -> None:
        reference = TurnContext.get_conversation_reference(activity).serialize()
        with session_scope(self.engine) as db:
            save_address(db, person_id, CHANNEL, reference, now=utcnow())
        self._saved[person_id] = where(activity)

    def forget(self, person_id: int) -> None:
        with session_scope(self.engine) as db:
            forget_address(db, person_id, CHANNEL)
        self._saved.pop(person_id, None)

    def of(self, person_id: int) -> dict[str, Any] | None:
        with Session(self.engine) as db:
            return address_of(db, person_id, CHANNEL)


def where(activity: Activity) -> tuple[str | None, ...]:
    """What a proactive message needs to reach the same chat."""
    return (
        activity.service_url,
        activity.channel_id,
        getattr(activity.conversation, "id", None),
        getattr(activity.recipient, "id", None),
        getattr(activity.from_property, "id", None),
    )

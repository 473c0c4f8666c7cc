"""What comes in: one normalised inbound event from any channel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Action:
    """A button click or form submit. ``session_id``/``step``/``seq`` identify the prompt it
    answered, so a click on an old message is recognised as stale."""

    value: Any
    session_id: int | None = None
    step: str | None = None
    seq: int | None = None


@dataclass(frozen=True)
class Turn:
    person_id: int
    text: str | None = None
    action: Action | None = None
    inbound_id: str | None = None
    """Platform id for de-duplication (Slack ``event_id``, Teams ``activity.id``)."""
    received_at: datetime | None = None
    channel: str = "console"
    intent: str | None = None
    """A global intent chosen without typing (an App Home button, a slash subcommand)."""

"""Builds the pieces every channel shares: the database engine and the dialog runtime."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config import Settings
from dialogs.engine.assistant import Assistant, ContentAssistant
from dialogs.engine.calendar import NudgePolicy
from dialogs.engine.content import Content, load_content
from dialogs.engine.dialog import DialogSettings
from dialogs.engine.runtime import Runtime
from dialogs.registry import DIALOGS
from storage.db import get_engine
from storage.models import Person
from storage.privacy import min_group_size


def engine_for(settings: Settings) -> Engine:
    return get_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)


def policy(settings: Settings) -> NudgePolicy:
    """When the bot may speak up on its own: the organisation's nudge settings."""
    return NudgePolicy(
        time=settings.nudge_time,
        weekday=settings.nudge_weekday,
        grace=timedelta(hours=settings.nudge_grace_hours),
        country=settings.holidays_country,
    )


def unreachable(settings: Settings, db: Session, people: list[Person]) -> dict[int, str]:
    """Who of ``people`` no chat channel that is on can reach, and why: a campaign launch's
    "who cannot be reached" (``bot/channels/registry.py`` ``Reachability``)."""
    from bot.channels.registry import Reachability

    reach = Reachability.load(db, settings)
    found: dict[int, str] = {}
    for person in people:
        reason = reach.of(person)[1]
        if reason and person.id is not None:
            found[person.id] = reason
    return found


def build_assistant(settings: Settings, content: Content) -> Assistant:
    """Deterministic unless ``REGIE_LLM=on``; ``openai`` is imported only then."""
    if settings.llm != "on":
        return ContentAssistant(content)
    from bot import llm

    return llm.build_assistant(settings, content)


def build_runtime(settings: Settings, engine: Engine | None = None) -> Runtime:
    content = load_content()
    return Runtime(
        engine or engine_for(settings),
        dialogs=DIALOGS,
        content=content,
        settings=DialogSettings(
            min_group_size=min_group_size(settings.min_group_size),
            nudge_time=settings.nudge_time,
            policy=policy(settings),
            campaigns_dir=settings.campaigns_dir,
            campaign_approval_over=settings.campaign_approval_over,
            stories_channel=bool(settings.stories_slack_channel or settings.stories_teams_channel),
            unreachable=partial(unreachable, settings),
        ),
        assistant=build_assistant(settings, content),
    )

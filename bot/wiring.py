"""Builds the pieces every channel shares: the database engine and the dialog runtime."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from bot.config import Settings
from dialogs.content import load_content
from dialogs.dialog import DialogSettings
from dialogs.registry import DIALOGS
from dialogs.runtime import Runtime
from storage.db import get_engine
from storage.privacy import min_group_size


def engine_for(settings: Settings) -> Engine:
    return get_engine(settings.database_url)


def build_runtime(settings: Settings, engine: Engine | None = None) -> Runtime:
    return Runtime(
        engine or engine_for(settings),
        dialogs=DIALOGS,
        content=load_content(),
        settings=DialogSettings(
            min_group_size=min_group_size(settings.min_group_size),
            nudge_time=settings.nudge_time,
        ),
    )

"""What every web handler reaches through the application: the database, the settings, the
texts and the clock (injected, so tests choose the time)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from aiohttp import web
from sqlalchemy.engine import Engine

from bot.config import Settings
from dialogs.engine.content import Content
from storage.models import Person

ENGINE = web.AppKey("regie_engine", Engine)
SETTINGS = web.AppKey("regie_settings", Settings)
CONTENT = web.AppKey("regie_content", Content)
CLOCK: web.AppKey[Callable[[], datetime]] = web.AppKey("regie_clock")
PERSON: web.RequestKey[Person | None] = web.RequestKey("person")
"""``request[PERSON]``: the signed-in :class:`~storage.models.Person`, or None."""

T = TypeVar("T")


def engine(request: web.Request) -> Engine:
    return request.config_dict[ENGINE]


def settings(request: web.Request) -> Settings:
    return request.config_dict[SETTINGS]


def content(request: web.Request) -> Content:
    return request.config_dict[CONTENT]


def now(request: web.Request) -> datetime:
    return request.config_dict[CLOCK]()


def person(request: web.Request) -> Person | None:
    return request.get(PERSON)


def language(request: web.Request) -> str:
    """The signed-in person's language, else the deployment's."""
    signed_in = person(request)
    return signed_in.language if signed_in is not None else settings(request).language


async def in_thread(work: Callable[[], T]) -> T:
    """Database work off the event loop (a worker thread), as the chat channels do."""
    return await asyncio.to_thread(work)

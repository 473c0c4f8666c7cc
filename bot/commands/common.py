"""What every command shares: settings, logging, and a database that is ready."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config import Settings, get_settings
from bot.wiring import engine_for
from storage.db import session_scope
from storage.migrate import current_revision, head_revision
from storage.models import Person
from storage.people import by_email

log = logging.getLogger("regie")
err = Console(stderr=True)


def settings_and_logging() -> Settings:
    settings = get_settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    return settings


def ready_engine(settings: Settings) -> Engine:
    """The engine, after checking the schema is current: every command but init needs it."""
    engine = engine_for(settings)
    if current_revision(engine) != head_revision():
        err.print(
            "[red]The database is not initialised or out of date.[/] Run [bold]regie init[/]."
        )
        raise typer.Exit(2)
    return engine


@contextmanager
def database(settings: Settings) -> Iterator[Session]:
    with session_scope(ready_engine(settings)) as db:
        yield db


def person_or_exit(db: Session, email: str) -> Person:
    """The person with this e-mail, or a clear message and exit code 1."""
    person = by_email(db, email)
    if person is None:
        err.print(f"[red]No person with e-mail {email}.[/]")
        raise typer.Exit(1)
    return person

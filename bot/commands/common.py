"""What every command shares: settings, logging, and a database that is ready.

Every module in ``bot/commands`` is imported for any ``regie`` invocation (``--help`` included),
so at module level they import only Typer, Rich and the standard library; the database, the
dialogs, the platform SDKs are imported inside the command that needs them, when it runs.
``tests/bot/test_cli.py`` checks that ``regie --help`` stays that light.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

    from bot.config import Settings
    from storage.models import Person

log = logging.getLogger("regie")
err = Console(stderr=True)


def settings_and_logging() -> Settings:
    """The settings every command starts with; a bad one is one line per variable on stderr
    and exit code 2 (``settings_or_exit``)."""
    from bot.config import settings_or_exit

    settings = settings_or_exit()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    return settings


def ready_engine(settings: Settings) -> Engine:
    """The engine, after checking the schema is current: every command but init needs it."""
    from storage.db import get_engine
    from storage.migrate import current_revision, head_revision

    engine = get_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    if current_revision(engine) != head_revision():
        err.print(
            "[red]The database is not initialised or out of date.[/] Run [bold]regie init[/]."
        )
        raise typer.Exit(2)
    return engine


@contextmanager
def database(settings: Settings) -> Iterator[Session]:
    from storage.db import session_scope

    with session_scope(ready_engine(settings)) as db:
        yield db


def person_or_exit(db: Session, email: str) -> Person:
    """The person with this e-mail, or a clear message and exit code 1."""
    from storage.people import by_email

    person = by_email(db, email)
    if person is None:
        err.print(f"[red]No person with e-mail {email}.[/]")
        raise typer.Exit(1)
    return person

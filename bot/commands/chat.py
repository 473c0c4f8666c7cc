"""`regie chat`: the console channel, as a person."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated

import typer

from bot.commands.common import err, ready_engine, settings_and_logging

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from bot.config import Settings

app = typer.Typer()


@app.command()
def chat(
    email: Annotated[str, typer.Option("--as", help="E-mail of the person you chat as.")],
    json_mode: Annotated[
        bool, typer.Option("--json", help="One JSON object per reply line.")
    ] = False,
) -> None:
    """Chat with Regie in the terminal, as a person. Reads lines until end of input."""
    from pathlib import Path

    from bot.channels.console import ConsoleChannel
    from bot.channels.console_files import ConsoleLinks
    from bot.wiring import build_runtime
    from dialogs.engine.runtime import UnknownPerson

    settings = settings_and_logging()
    engine = ready_engine(settings)
    person_id = _person_id(engine, settings, email)
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(errors="replace")  # undecodable bytes must not end the chat
    interactive = sys.stdin.isatty() and not json_mode

    def rejoin(language: str | None) -> int:
        """After "delete all my data": the next line starts afresh, as a new person (in the
        language they were speaking)."""
        return _person_id(engine, settings, email, language=language)

    runtime = build_runtime(settings, engine)
    files = ConsoleLinks(
        engine, runtime.content, settings.base_url, Path(settings.export_dir), runtime.clock
    )
    channel = ConsoleChannel(
        runtime, person_id, sys.stdout, json_mode=json_mode, rejoin=rejoin, links=files
    )
    if interactive:
        typer.echo(
            "(Type your answer and press Enter. Ctrl-D to leave; the conversation is kept.)\n"
        )
    try:
        channel.show_inbox()
        channel.open(greet=interactive)
        channel.run(_interactive_lines() if interactive else sys.stdin)
    except UnknownPerson:  # deleted in another session, and no new start allowed
        err.print(f"[red]{email} is no longer known to Regie.[/]")
        raise typer.Exit(1) from None


def _person_id(
    engine: Engine, settings: Settings, email: str, *, language: str | None = None
) -> int:
    """The person with this e-mail, enrolled now if open enrolment allows (else exit 1), in
    ``language`` or the organisation's."""
    from storage.db import session_scope
    from storage.models import utcnow
    from storage.people import by_email, enrol

    with session_scope(engine) as db:
        person = by_email(db, email)
        if person is None:
            if not settings.open_enrolment:
                err.print(f"[red]{email} is not known to Regie[/] and open enrolment is off.")
                raise typer.Exit(1)
            if "@" not in email:
                err.print(f"[red]{email!r} is not an e-mail address.[/]")
                raise typer.Exit(1)
            person = enrol(
                db,
                email=email,
                name=None,
                language=language or settings.language,
                timezone=settings.timezone,
                country=settings.holidays_country,
                now=utcnow(),
            )
        assert person.id is not None
        return person.id


def _interactive_lines() -> Iterator[str]:
    while True:
        try:
            yield input("you> ")
        except (EOFError, KeyboardInterrupt):
            typer.echo("\nBye! Run the same command again to continue where you left off.")
            return

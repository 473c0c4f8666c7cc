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

    from dialogs.engine.replies import Reply

app = typer.Typer()


@app.command()
def chat(
    email: Annotated[str, typer.Option("--as", help="E-mail of the person you chat as.")],
    json_mode: Annotated[
        bool, typer.Option("--json", help="One JSON object per reply line.")
    ] = False,
) -> None:
    """Chat with Regie in the terminal, as a person. Reads lines until end of input."""
    from bot.channels.console import ConsoleChannel
    from bot.wiring import build_runtime
    from storage.db import session_scope
    from storage.models import utcnow
    from storage.people import by_email, enrol

    settings = settings_and_logging()
    engine = ready_engine(settings)
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
                language=settings.language,
                timezone=settings.timezone,
                country=settings.holidays_country,
                now=utcnow(),
            )
        person_id = person.id
    assert person_id is not None
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(errors="replace")  # undecodable bytes must not end the chat
    interactive = sys.stdin.isatty() and not json_mode
    channel = ConsoleChannel(
        build_runtime(settings, engine), person_id, sys.stdout, json_mode=json_mode
    )
    if interactive:
        typer.echo(
            "(Type your answer and press Enter. Ctrl-D to leave; the conversation is kept.)\n"
        )
    channel.emit_if_any(_console_inbox(engine, person_id))
    channel.open(greet=interactive)
    channel.run(_interactive_lines() if interactive else sys.stdin)


def _console_inbox(engine: Engine, person_id: int) -> list[Reply]:
    """Nudges waiting for someone who is reachable only here: shown now, marked sent."""
    from dialogs.engine.replies import reply_from_dict
    from storage.db import session_scope
    from storage.models import utcnow
    from storage.outbox import mark_sent, pending_for

    replies: list[Reply] = []
    with session_scope(engine) as db:
        for row in pending_for(db, person_id, now=utcnow()):
            replies += [reply_from_dict(data) for data in row.payload]
            mark_sent(row, channel="console", now=utcnow())
            db.add(row)
    return replies


def _interactive_lines() -> Iterator[str]:
    while True:
        try:
            yield input("you> ")
        except (EOFError, KeyboardInterrupt):
            typer.echo("\nBye! Run the same command again to continue where you left off.")
            return

"""Setting up: the schema, the demo organisation, people, and a person's data."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from bot.commands.common import database, err, person_or_exit, settings_and_logging

if TYPE_CHECKING:
    from storage.privacy import Reader

app = typer.Typer()
people_app = typer.Typer(help="The people Regie knows.", no_args_is_help=True)


@app.command()
def init() -> None:
    """Create or upgrade the database schema (safe to run again)."""
    from storage.db import get_engine
    from storage.migrate import current_revision, upgrade

    settings = settings_and_logging()
    engine = get_engine(settings.database_url)
    upgrade(engine)
    where = engine.url.render_as_string(hide_password=True)
    typer.echo(f"Database ready ({where}, revision {current_revision(engine)}).")


@app.command()
def demo() -> None:
    """Load the demo organisation (two teams, their managers and HR, with some history)."""
    from bot.demo import DEMO_EMPLOYEE, load_demo
    from storage.models import utcnow

    settings = settings_and_logging()
    with database(settings) as db:
        result = load_demo(db, now=utcnow())
    typer.echo(
        f"Demo organisation: {result.people} people ({result.created} new), "
        f"{result.items} history items added."
    )
    typer.echo(f"Try: regie chat --as {DEMO_EMPLOYEE}")


@people_app.command("import")
def people_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
) -> None:
    """Import or update people from a CSV file (all rows or none)."""
    from storage.people_import import import_people

    settings = settings_and_logging()
    with database(settings) as db, file.open(encoding="utf-8", newline="") as source:
        result = import_people(
            db,
            source,
            default_language=settings.language,
            default_timezone=settings.timezone,
            default_country=settings.holidays_country,
        )
        if not result.ok:
            db.rollback()
            err.print(f"[red]Nothing imported: {len(result.errors)} problem(s) in {file}.[/]")
            for error in result.errors:
                err.print(f"  line {error.line}: {error.email or '-'}: {error.message}")
            raise typer.Exit(1)
    typer.echo(f"Imported {result.created} new and updated {result.updated} people.")


@people_app.command("list")
def people_list() -> None:
    """List everyone, with their manager and role."""
    from storage.people import everyone

    settings = settings_and_logging()
    with database(settings) as db:
        people = everyone(db)
        emails = {p.id: p.email for p in people}
        header = ("email", "name", "role", "manager", "department", "language", "timezone")
        rows = [
            (
                p.email,
                p.name,
                str(p.role),
                emails.get(p.manager_id, ""),
                p.department,
                p.language,
                p.timezone,
            )
            for p in people
        ]
    if sys.stdout.isatty():
        table = Table(*header)
        for row in rows:
            table.add_row(*row)
        Console().print(table)
    else:  # piped: one tab-separated line per person, for scripts
        for row in (header, *rows):
            typer.echo("\t".join(row))
    typer.echo(f"{len(people)} people")


OperatorOption = Annotated[
    str | None,
    typer.Option(
        "--operator",
        help="Who is reading, for the audit log the person sees (default: your OS user name).",
    ),
]


def operator_name(option: str | None) -> str:
    """The administrator at the command line: ``--operator``, else the operating system user."""
    import getpass

    if option and option.strip():
        return option.strip()
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no user name in the environment or the password database
        return "unknown"


def administrator(option: str | None) -> Reader:
    """The administrator as the audit log records a read: "an administrator (name)"."""
    from storage.privacy import Reader

    return Reader.administrator(operator_name(option))


@app.command()
def export(
    email: Annotated[str, typer.Option("--person", help="E-mail of the person.")],
    operator: OperatorOption = None,
) -> None:
    """Print all of one person's data as JSON (audited: the person sees who exported it)."""
    from storage.personal_data import export_person

    settings = settings_and_logging()
    with database(settings) as db:
        person = person_or_exit(db, email)
        data = export_person(db, person, reader=administrator(operator))
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


@app.command()
def forget(
    email: Annotated[str, typer.Option("--person", help="E-mail of the person.")],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: this cannot be undone.")] = False,
    operator: OperatorOption = None,
) -> None:
    """Delete everything about one person; the audit log keeps only that it happened."""
    from storage.db import get_engine
    from storage.personal_data import forget_person, scrub

    settings = settings_and_logging()
    if not yes:
        err.print("[red]This deletes all of this person's data and cannot be undone.[/] Add --yes.")
        raise typer.Exit(2)
    with database(settings) as db:
        person = person_or_exit(db, email)
        forget_person(db, person, by="admin", operator=operator_name(operator))
    scrub(get_engine(settings.database_url))  # after the commit: no copy left in the WAL
    typer.echo(f"Deleted all data of {email}.")

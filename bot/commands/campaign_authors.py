"""``regie campaign authors``: hr people who launch campaigns, and whom each may reach without
a second person."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.commands.campaign_common import stdout
from bot.commands.common import database, err, person_or_exit, settings_and_logging
from bot.commands.setup import OperatorOption

authors_app = typer.Typer(
    help="Campaign authors: hr people and whom they may reach without a second person.",
    no_args_is_help=True,
)
EmailArg = Annotated[str, typer.Argument(help="The hr person's e-mail.")]


@authors_app.command("set")
def authors_set(
    email: EmailArg,
    scope: Annotated[
        str,
        typer.Option(
            "--scope", help="all, or department:NAME and country:CODE separated by commas."
        ),
    ],
    operator: OperatorOption = None,
) -> None:
    """Make an hr person a campaign author, or change whom they may reach."""
    from bot.commands.setup import operator_name
    from storage import campaign_guardrails as guard
    from storage.models import Role, utcnow
    from storage.privacy import Reader

    try:
        parsed = guard.Scope.parse(scope)
    except guard.ScopeError as error:
        err.print(f"[red]--scope: {error}[/]")
        raise typer.Exit(2) from error
    settings = settings_and_logging()
    with database(settings) as db:
        person = person_or_exit(db, email)
        if person.role not in (Role.HR, Role.ADMIN):
            err.print(
                f"[red]{email} has the {person.role} role:[/] campaign authors are hr people "
                "(set the role in the people file and import it again)."
            )
            raise typer.Exit(1)
        actor = Reader.administrator(operator_name(operator))
        guard.set_scope(db, person, parsed, actor=actor, now=utcnow())
    typer.echo(f"{email} may launch campaigns to: {parsed}.")


@authors_app.command("remove")
def authors_remove(email: EmailArg, operator: OperatorOption = None) -> None:
    """An author no longer launches alone (every launch of theirs needs a second person)."""
    from bot.commands.setup import operator_name
    from storage import campaign_guardrails as guard
    from storage.models import utcnow
    from storage.privacy import Reader

    settings = settings_and_logging()
    with database(settings) as db:
        person = person_or_exit(db, email)
        actor = Reader.administrator(operator_name(operator))
        removed = guard.remove_author(db, person, actor=actor, now=utcnow())
    typer.echo(f"{email} is no longer a campaign author." if removed else f"{email} was no author.")


@authors_app.command("list")
def authors_list() -> None:
    """Every campaign author and whom they may reach alone."""
    from rich.table import Table

    from storage import campaign_guardrails as guard

    settings = settings_and_logging()
    table = Table()
    for column in ("author", "role", "may reach"):
        table.add_column(column)
    with database(settings) as db:
        for person, scope in guard.authors(db):
            table.add_row(person.email, str(person.role), str(scope))
    stdout().print(table)

"""What every ``regie campaign`` command shares: standard output, the argument types, reading a
campaign file or a stored campaign, turning a refused campaign change into an exit, and the notes on
workshop timing said before anything goes out."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console

from bot.commands.common import err

if TYPE_CHECKING:
    from sqlmodel import Session

    from bot.config import Settings
    from dialogs.campaigns.spec import CampaignSpec
    from storage.models import Campaign, Person

T = TypeVar("T")

FileArg = Annotated[Path, typer.Argument(help="The campaign file (YAML).")]
IdArg = Annotated[str, typer.Argument(help="The campaign's id (from its file) or number.")]


def stdout() -> Console:
    """Standard output; wide when piped (a log, a script): rows are never cut or wrapped."""
    return Console(width=None if sys.stdout.isatty() else 160)


def spec_or_exit(path: Path) -> CampaignSpec:
    """The campaign file, or every problem in it (with its line and YAML path) and exit 1."""
    from dialogs.campaigns.spec import CampaignFileError, load_file

    try:
        return load_file(path)
    except CampaignFileError as error:
        typer.echo(f"{path}: {len(error.problems)} problem(s)", err=True)
        for problem in error.problems:
            where = f"{path}:{problem.line or '?'}"
            typer.echo(f"  {where}  {problem.path or '(top)'}: {problem.message}", err=True)
        raise typer.Exit(1) from error


def campaign_or_exit(db: Session, ref: str) -> Campaign:
    """The stored campaign with this id or number, or a clear line and exit 1."""
    from storage import campaigns as stored

    found = stored.find(db, ref)
    if found is None:
        err.print(f"[red]No campaign {ref!r}.[/] See [bold]regie campaign list[/].")
        raise typer.Exit(1)
    return found


def or_exit(fn: Callable[[], T]) -> T:
    """What ``fn`` returns; a campaign change it refuses is said in red and exits 1."""
    from dialogs.campaigns.launch import CampaignError

    try:
        return fn()
    except CampaignError as error:
        err.print(f"[red]{error}[/]")
        raise typer.Exit(1) from error


def timing_notes(spec: CampaignSpec, people: list[Person], settings: Settings) -> None:
    """Who would get a message about a workshop after it starts (per time zone), and which
    steps recent starters joined too late for: said before launching, never silently."""
    from bot.wiring import policy
    from dialogs.campaigns.timing import late_lines, missed_lines
    from dialogs.engine.content import load_content
    from storage.models import utcnow

    now = utcnow()
    # the command line speaks English
    late = late_lines(
        spec, people, policy=policy(settings), now=now, content=load_content(), lang="en"
    )
    if late:
        typer.echo(
            "Workshop timing, per time zone (a message about a workshop never arrives after "
            "it starts):"
        )
        for line in late:
            typer.echo(f"  {line}")
    missed = missed_lines(
        spec, people, policy=policy(settings), now=now, content=load_content(), lang="en"
    )
    if missed:
        typer.echo("Recent starters who joined after a step's moment (skipped for them):")
        for line in missed:
            typer.echo(f"  {line}")

"""``regie report pulse`` (a learning-needs pulse's results) and ``regie pulse close``. A pulse
is a campaign file with a ``pulse:`` section: validate, preview and launch it with
``regie campaign``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.commands.common import database, err, settings_and_logging
from bot.commands.outbox import report_app
from bot.commands.setup import OperatorOption

pulse_app = typer.Typer(help="Learning-needs pulses (launched as campaigns).")
IdArg = Annotated[str, typer.Argument(help="The pulse's campaign id (from the file) or number.")]


def _pulse(db: object, ref: str) -> object:
    from sqlmodel import Session

    from dialogs.campaigns.spec import from_stored
    from storage.campaigns import find

    assert isinstance(db, Session)
    campaign = find(db, ref)
    if campaign is None or from_stored(campaign.spec).pulse is None:
        err.print(f"[red]No pulse {ref!r}.[/] See [bold]regie campaign list[/].")
        raise typer.Exit(1)
    return campaign


@report_app.command("pulse")
def report_pulse(
    pulse: IdArg,
    csv_file: Annotated[
        Path | None, typer.Option("--csv", help="Write the results as CSV.")
    ] = None,
    html_file: Annotated[
        Path | None, typer.Option("--html", help="Write an HTML page with a chart a question.")
    ] = None,
    lang: Annotated[
        str | None, typer.Option("--lang", help="en or nl (default: REGIE_LANGUAGE).")
    ] = None,
    operator: OperatorOption = None,
) -> None:
    """A pulse's results: how many answered while it is open; once it has closed, the answers
    per question over everyone and per department, only for groups of at least
    REGIE_MIN_GROUP_SIZE. Written answers only as a count, unless the file opted in."""
    from rich.console import Console

    from bot.commands.setup import operator_name
    from bot.pulse_reports import print_report, render_html, write_csv
    from dialogs.campaigns.pulse_report import build
    from dialogs.engine.content import LANGUAGES
    from storage.models import Campaign, utcnow
    from storage.privacy import Reader

    settings = settings_and_logging()
    language = (lang or settings.language).lower()
    if language not in LANGUAGES:
        err.print(f"[red]--lang {lang}: expected one of {', '.join(LANGUAGES)}.[/]")
        raise typer.Exit(2)
    with database(settings) as db:
        campaign = _pulse(db, pulse)
        assert isinstance(campaign, Campaign)
        results = build(
            db,
            campaign,
            min_group=settings.min_group_size,
            reader=Reader.administrator(operator_name(operator)),
            now=utcnow(),
        )
    print_report(Console(), results, language)
    if csv_file is not None:
        write_csv(results, csv_file, language)
        typer.echo(f"CSV written to {csv_file}")
    if html_file is not None:
        html_file.write_text(render_html(results, language), encoding="utf-8")
        typer.echo(f"HTML written to {html_file}")


@pulse_app.command("close")
def close_pulse(pulse: IdArg) -> None:
    """Close a pulse before its last day: no more answers, and the link between people and
    their answers is deleted for good (it happens by itself the day after ``closes``)."""
    from storage import pulse as stored
    from storage.models import Campaign, utcnow

    settings = settings_and_logging()
    with database(settings) as db:
        campaign = _pulse(db, pulse)
        assert isinstance(campaign, Campaign) and campaign.id is not None
        closed = stored.close(db, campaign.id, now=utcnow())
    typer.echo(f"{pulse}: " + ("closed." if closed else "was closed already."))

"""``regie campaign list``, ``status`` (following delivery live in a terminal) and ``report``:
what became of the campaigns that were launched."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.commands.campaign_common import IdArg, campaign_or_exit, stdout
from bot.commands.common import database, err, person_or_exit, settings_and_logging
from bot.commands.setup import OperatorOption

if TYPE_CHECKING:
    from rich.console import Console

    from bot.campaign_reports import Delivery
    from bot.config import Settings
    from storage.models import Campaign

POLL_SECONDS = 1.0
"""How often ``status`` looks at the outbox while it follows a campaign."""
STALLED_AFTER = 30.0
"""Seconds without any change after which ``status`` says it is waiting for a delivery worker."""


def list_command() -> None:
    """Every campaign, newest first."""
    from rich.table import Table

    from dialogs.campaigns.report import build
    from storage import campaigns as stored
    from storage.models import utcnow

    settings = settings_and_logging()
    table = Table()
    for column in ("id", "name", "state", "people", "reached", "launched"):
        table.add_column(column)
    with database(settings) as db:
        for campaign in stored.listing(db):
            report = build(db, campaign, min_group=settings.min_group_size, now=utcnow())
            table.add_row(
                campaign.slug,
                campaign.name,
                report.state,
                str(report.figures.targeted),
                str(report.figures.reached),
                f"{campaign.launched_at:%Y-%m-%d}",
            )
    stdout().print(table)


def status_command(
    campaign: IdArg,
    watch: Annotated[
        bool, typer.Option(help="Show a live progress bar while messages are going out.")
    ] = True,
) -> None:
    """Targeted, sent, failed (with reasons), responded, and sign-ups per workshop."""
    from bot.campaign_reports import print_report
    from dialogs.campaigns.report import build
    from storage.models import utcnow

    settings = settings_and_logging()
    out = stdout()
    with database(settings) as db:
        found = campaign_or_exit(db, campaign)
    if watch and out.is_terminal:
        _follow(settings, found, out)
    with database(settings) as db:
        report = build(
            db, campaign_or_exit(db, campaign), min_group=settings.min_group_size, now=utcnow()
        )
    print_report(out, report)


def _follow(settings: Settings, campaign: Campaign, out: Console) -> None:
    """A live bar of the messages due so far against those sent, for as long as the delivery
    worker has any of them to send (now, or after a retry); then what was not sent, and why.
    Dead and held messages, and those waiting for someone in ``regie chat``, end it: nothing
    more can be sent of them without someone doing something. Ctrl-C stops following."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from bot.campaign_reports import delivery, not_sent_lines, waiting_for
    from storage.models import utcnow

    assert campaign.id is not None
    current: Delivery | None = None
    moved: tuple[int, ...] = ()
    last_moved = time.monotonic()
    try:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=out,
            transient=True,
        ) as bar:
            task = bar.add_task("sending", total=None)
            while True:
                with database(settings) as db:
                    current = delivery(db, campaign.id, now=utcnow())
                if current.handled != moved:  # the delivery worker did something
                    moved, last_moved = current.handled, time.monotonic()
                description = waiting_for(
                    current, quiet_for=time.monotonic() - last_moved, stalled_after=STALLED_AFTER
                )
                bar.update(task, total=current.due, completed=current.sent, description=description)
                if not current.going:
                    break
                _pause()
    except KeyboardInterrupt:
        out.print("Stopped following; delivery goes on without you.")
    if current is not None and not current.going:
        for line in not_sent_lines(current, campaign.slug):
            out.print(line, highlight=False)


def _pause() -> None:
    time.sleep(POLL_SECONDS)


def report_command(
    campaign: IdArg,
    csv_file: Annotated[
        Path | None, typer.Option("--csv", help="Write the figures as CSV.")
    ] = None,
    html_file: Annotated[
        Path | None, typer.Option("--html", help="Write an HTML report with charts.")
    ] = None,
    owner: Annotated[
        str | None,
        typer.Option("--as", help="The campaign owner's e-mail: adds the sign-ups by name."),
    ] = None,
    lang: Annotated[
        str | None,
        typer.Option("--lang", help="en or nl (default: the campaign owner's language)."),
    ] = None,
    operator: OperatorOption = None,
) -> None:
    """The campaign's figures, each one defined (and, for its owner, who signed up for which
    workshop: each person on those lists sees that an administrator looked)."""
    from bot.campaign_reports import print_report, print_sign_ups, render_html, write_csv
    from bot.commands.setup import operator_name
    from dialogs.campaigns.report import build, sign_ups
    from dialogs.engine.content import LANGUAGES
    from storage.models import utcnow

    settings = settings_and_logging()
    if lang is not None and lang.lower() not in LANGUAGES:
        err.print(f"[red]--lang {lang}: expected one of {', '.join(LANGUAGES)}.[/]")
        raise typer.Exit(2)
    out = stdout()
    with database(settings) as db:
        found = campaign_or_exit(db, campaign)
        reader = person_or_exit(db, owner) if owner is not None else None
        report = build(
            db,
            found,
            min_group=settings.min_group_size,
            now=utcnow(),
            reader=reader,
            lang=lang.lower() if lang else None,
        )
        names = None
        if reader is not None:
            names = sign_ups(db, found, reader, now=utcnow(), operator=operator_name(operator))
            if names is None:
                err.print("[yellow]Only the campaign's owner sees sign-ups by name.[/]")
    print_report(out, report)
    if names:
        print_sign_ups(out, report, names)
    if csv_file is not None:
        write_csv(report, csv_file, names)
        typer.echo(f"Wrote {csv_file}.")
    if html_file is not None:
        html_file.write_text(render_html(report, names), encoding="utf-8")
        typer.echo(f"Wrote {html_file}.")

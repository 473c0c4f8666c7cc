"""The messages the bot sends on its own: `regie run-due` and `regie outbox`."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from bot.commands.common import database, err, person_or_exit, ready_engine, settings_and_logging
from bot.commands.setup import OperatorOption

app = typer.Typer()
outbox_app = typer.Typer(help="Messages the bot sends on its own.", no_args_is_help=True)


@app.command("run-due")
def run_due(
    now: Annotated[str | None, typer.Option(help="The instant, ISO 8601 (default: now).")] = None,
) -> None:
    """Run everything due at one instant once, then deliver what is due, in passes the
    platforms' budgets allow until nothing is due: for cron and tests."""
    import asyncio

    from bot.claims import SharedBudgets
    from bot.delivery import DeliveryWorker
    from bot.jobs import enqueue_due
    from bot.outbound import build_senders
    from bot.wiring import build_runtime
    from storage.models import utcnow

    settings = settings_and_logging()
    engine = ready_engine(settings)
    instant = datetime.fromisoformat(now) if now else utcnow()
    if instant.tzinfo is None:
        err.print("[red]--now needs a time zone, e.g. 2026-11-24T08:30:00+00:00[/]")
        raise typer.Exit(2)
    added = enqueue_due(settings, instant)
    runtime = build_runtime(settings, engine)
    worker = DeliveryWorker(
        engine,
        build_senders(settings, runtime, engine),
        clock=lambda: instant,
        stuck_after=timedelta(seconds=settings.outbox_stuck_after),
        shared=SharedBudgets.for_engine(engine),  # replicas keep to the platforms' limits
    )
    report = asyncio.run(worker.run_until_idle())
    typer.echo(
        f"Due at {instant.isoformat()}: {added} new. Delivered {report.sent}, "
        f"retry later {report.failed}, dead {report.dead}, skipped {report.skipped}, "
        f"waiting in the console {report.console}."
    )


@outbox_app.command("status")
def outbox_status() -> None:
    """Counts per state, the oldest waiting message and why messages died."""
    from storage.outbox import status

    settings = settings_and_logging()
    with database(settings) as db:
        current = status(db)
    counts = ", ".join(f"{state} {n}" for state, n in sorted(current.counts.items())) or "empty"
    typer.echo(f"Outbox: {counts}.")
    if current.oldest_pending is not None:
        typer.echo(f"Oldest waiting since {current.oldest_pending.isoformat()}.")
    for reason, n in sorted(current.dead_reasons.items(), key=lambda item: -item[1]):
        typer.echo(f"  dead ({n}): {reason}")


@outbox_app.command("retry-dead")
def outbox_retry_dead() -> None:
    """Send dead messages again (after fixing what killed them)."""
    from storage.models import utcnow
    from storage.outbox import retry_dead

    settings = settings_and_logging()
    with database(settings) as db:
        revived = retry_dead(db, now=utcnow())
    typer.echo(f"{revived} message(s) back in the queue.")


@app.command()
def digest(
    manager: Annotated[str, typer.Option("--manager", help="E-mail of the manager.")],
    print_it: Annotated[bool, typer.Option("--print", help="Print it here (plain text).")] = True,
    operator: OperatorOption = None,
) -> None:
    """Compose a manager's digest now and print it: what their direct reports shared since
    the last one. You read it, not the manager: each report sees "an administrator" in who has
    seen their data. Nothing is sent, and the manager's next digest is not affected."""
    from sqlmodel import Session

    from bot.channels.console import render_text
    from bot.commands.setup import administrator
    from bot.wiring import build_assistant
    from dialogs.engine.assistant import run_in_transaction
    from dialogs.engine.content import load_content
    from dialogs.engine.replies import Reply
    from dialogs.nudges.digest import as_replies, compose
    from storage.models import utcnow

    settings = settings_and_logging()
    content = load_content()
    assistant = build_assistant(settings, content)
    now = utcnow()

    def digest_of(db: Session) -> list[Reply]:
        # (the model, when on, is asked between two transactions: run_in_transaction)
        person = person_or_exit(db, manager)
        composed = compose(
            db,
            content,
            person,
            now=now,
            min_group=settings.min_group_size,
            assistant=assistant,
            reader=administrator(operator),
            audited=print_it,
        )
        return as_replies(content, composed)

    replies = run_in_transaction(ready_engine(settings), digest_of)
    if print_it:
        for reply in replies:
            typer.echo(render_text(reply) + "\n")


report_app = typer.Typer(help="Reports for HR: counts only, small groups suppressed.")


@report_app.command("participation")
def report_participation(
    department: Annotated[str | None, typer.Option(help="Only this department.")] = None,
    start: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD.")] = None,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="Also write a CSV file.")] = None,
    lang: Annotated[
        str | None, typer.Option("--lang", help="en or nl (default: REGIE_LANGUAGE).")
    ] = None,
    operator: OperatorOption = None,
) -> None:
    """Participation in numbers (an operator tool: in chat only HR and admins may ask).

    Every cell counts people; one that covers fewer than REGIE_MIN_GROUP_SIZE people shows
    "<K" instead. No text anyone wrote ever appears. Each figure is defined below the table."""
    from bot.commands.setup import operator_name
    from bot.participation_report import participation_lines, write_participation_csv
    from dialogs.engine.content import LANGUAGES, load_content
    from storage.models import utcnow
    from storage.reports import participation

    settings = settings_and_logging()
    language = (lang or settings.language).lower()
    if language not in LANGUAGES:
        err.print(f"[red]--lang {lang}: expected one of {', '.join(LANGUAGES)}.[/]")
        raise typer.Exit(2)
    last = date.fromisoformat(end) if end else utcnow().date()
    first = date.fromisoformat(start) if start else last.replace(month=1, day=1)
    with database(settings) as db:
        report = participation(
            db,
            start=first,
            end=last,
            min_group=settings.min_group_size,
            department=department,
            operator=operator_name(operator),
        )
    content = load_content()
    lines = participation_lines(
        content, language, report, start=first, end=last, department=department
    )
    typer.echo("\n".join(lines))
    if csv_file is not None:
        write_participation_csv(content, language, report, csv_file)
        typer.echo(f"Wrote {csv_file}.")

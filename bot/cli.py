"""The ``regie`` command line."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.channels.console import ConsoleChannel
from bot.config import Settings, get_settings
from bot.wiring import build_runtime, engine_for
from dialogs.replies import Reply
from storage.db import session_scope
from storage.migrate import current_revision, head_revision, upgrade
from storage.models import utcnow
from storage.people import by_email, enrol, everyone
from storage.people_import import import_people
from storage.personal_data import export_person, forget_person

app = typer.Typer(
    help="Regie: a development companion for Slack, Teams and the console.", no_args_is_help=True
)
people_app = typer.Typer(help="The people Regie knows.", no_args_is_help=True)
app.add_typer(people_app, name="people")
slack_app = typer.Typer(help="Slack administration.", no_args_is_help=True)
app.add_typer(slack_app, name="slack")
teams_app = typer.Typer(help="Microsoft Teams administration.", no_args_is_help=True)
app.add_typer(teams_app, name="teams")
outbox_app = typer.Typer(help="Messages the bot sends on its own.", no_args_is_help=True)
app.add_typer(outbox_app, name="outbox")

log = logging.getLogger("regie")

err = Console(stderr=True)


def _settings() -> Settings:
    settings = get_settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    return settings


def _ready_engine(settings: Settings) -> Engine:
    """The engine, after checking the schema is current: every command but init needs it."""
    engine = engine_for(settings)
    if current_revision(engine) != head_revision():
        err.print(
            "[red]The database is not initialised or out of date.[/] Run [bold]regie init[/]."
        )
        raise typer.Exit(2)
    return engine


@contextmanager
def _db(settings: Settings) -> Iterator[Session]:
    with session_scope(_ready_engine(settings)) as db:
        yield db


@app.command()
def init() -> None:
    """Create or upgrade the database schema (safe to run again)."""
    settings = _settings()
    engine = engine_for(settings)
    upgrade(engine)
    where = engine.url.render_as_string(hide_password=True)
    typer.echo(f"Database ready ({where}, revision {current_revision(engine)}).")


@app.command()
def demo() -> None:
    """Load the demo organisation (two teams, their managers and HR, with some history)."""
    from bot.demo import DEMO_EMPLOYEE, load_demo

    settings = _settings()
    with _db(settings) as db:
        result = load_demo(db, now=utcnow())
    typer.echo(
        f"Demo organisation: {result.people} people ({result.created} new), "
        f"{result.items} history items added."
    )
    typer.echo(f"Try: regie chat --as {DEMO_EMPLOYEE}")


@app.command()
def chat(
    email: Annotated[str, typer.Option("--as", help="E-mail of the person you chat as.")],
    json_mode: Annotated[
        bool, typer.Option("--json", help="One JSON object per reply line.")
    ] = False,
) -> None:
    """Chat with Regie in the terminal, as a person. Reads lines until end of input."""
    settings = _settings()
    engine = _ready_engine(settings)
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
    from dialogs.replies import reply_from_dict
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


@people_app.command("import")
def people_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
) -> None:
    """Import or update people from a CSV file (all rows or none)."""
    settings = _settings()
    with _db(settings) as db, file.open(encoding="utf-8", newline="") as source:
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
    settings = _settings()
    with _db(settings) as db:
        people = everyone(db)
        emails = {p.id: p.email for p in people}
        header = ("email", "name", "role", "manager", "department", "language", "timezone")
        rows = [
            (
                p.email,
                p.name,
                p.role,
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


@app.command()
def export(email: Annotated[str, typer.Option("--person", help="E-mail of the person.")]) -> None:
    """Print all of one person's data as JSON."""
    settings = _settings()
    with _db(settings) as db:
        person = by_email(db, email)
        if person is None:
            err.print(f"[red]No person with e-mail {email}.[/]")
            raise typer.Exit(1)
        data = export_person(db, person)
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


@app.command()
def forget(
    email: Annotated[str, typer.Option("--person", help="E-mail of the person.")],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: this cannot be undone.")] = False,
) -> None:
    """Delete everything about one person; the audit log keeps only that it happened."""
    settings = _settings()
    if not yes:
        err.print("[red]This deletes all of this person's data and cannot be undone.[/] Add --yes.")
        raise typer.Exit(2)
    with _db(settings) as db:
        person = by_email(db, email)
        if person is None:
            err.print(f"[red]No person with e-mail {email}.[/]")
            raise typer.Exit(1)
        forget_person(db, person, by="admin")
    typer.echo(f"Deleted all data of {email}.")


@app.command()
def serve() -> None:
    """Run the chat channels that are configured, with one HTTP server (and GET /healthz)."""
    from aiohttp import web

    from bot.server import Handler, build_web_app

    settings = _settings()
    engine = _ready_engine(settings)
    runtime = build_runtime(settings, engine)
    routes: dict[str, Handler] = {}
    where = f"http://{settings.host}:{settings.port}"
    if settings.slack_enabled:
        from bot.channels.slack.app import SlackChannel
        from bot.channels.slack.http import events_handler

        slack = SlackChannel(runtime, engine, settings)
        if settings.slack_app_token is not None:
            slack.connect_socket_mode(settings.slack_app_token.get_secret_value())
            typer.echo("Slack: Socket Mode connected.")
        else:
            routes["/slack/events"] = events_handler(slack.app)
            typer.echo(f"Slack: Events API at {where}/slack/events")
    else:
        log.warning(
            "Slack channel off: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET to turn it on."
        )
    teams_bot = None
    if settings.teams_enabled:
        from bot.channels.teams.adapter import build_teams, messages_handler

        teams_bot = build_teams(runtime, engine, settings)
        routes["/api/messages"] = messages_handler(teams_bot)
        typer.echo(f"Teams: Bot Framework endpoint at {where}/api/messages")
        if not settings.microsoft_app_id:
            log.warning(
                "TEAMS WITHOUT AUTHENTICATION (REGIE_TEAMS_ALLOW_UNAUTHENTICATED=true): anyone who "
                "can reach %s can talk to Regie as anyone. Use this for local development only.",
                where,
            )
    else:
        log.warning(
            "Teams channel off: set MICROSOFT_APP_ID (and MICROSOFT_APP_PASSWORD) to turn it on."
        )
    channels = {"slack": settings.slack_enabled, "teams": settings.teams_enabled}
    web_app = build_web_app(channels=channels, routes=routes)
    _run_in_background(web_app, settings, runtime, engine, teams_bot)
    typer.echo(f"Regie is serving on {where} (GET /healthz).")
    web.run_app(web_app, host=settings.host, port=settings.port, print=None)


def _run_in_background(
    web_app: Any, settings: Settings, runtime: Any, engine: Engine, teams_bot: Any
) -> None:
    """The scheduler (one per deployment) and the outbox delivery worker, next to the
    channels, for as long as the web app runs."""
    import asyncio

    from bot.delivery import DeliveryWorker
    from bot.outbound import build_senders
    from bot.scheduler import start_scheduler

    worker = DeliveryWorker(
        engine,
        build_senders(settings, runtime, engine, teams_bot=teams_bot),
        stuck_after=timedelta(seconds=settings.outbox_stuck_after),
    )
    scheduler = start_scheduler(settings, engine)

    async def start(app: Any) -> None:
        app["delivery"] = asyncio.get_running_loop().create_task(worker.run_forever())

    async def stop(app: Any) -> None:
        app["delivery"].cancel()
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)

    web_app.on_startup.append(start)
    web_app.on_cleanup.append(stop)


@slack_app.command("sync")
def slack_sync() -> None:
    """Link imported people to their Slack accounts by e-mail (pages through users.list)."""
    from bot.channels.slack.client import web_client
    from bot.channels.slack.sync import sync_users

    settings = _settings()
    if settings.slack_bot_token is None:
        err.print("[red]SLACK_BOT_TOKEN is not set.[/]")
        raise typer.Exit(2)
    with _db(settings) as db:
        report = sync_users(web_client(settings), db)
    typer.echo(
        f"Matched {report.matched} (already linked {report.already_linked}), "
        f"unmatched {len(report.unmatched)}, bots skipped {report.bots_skipped}, "
        f"deactivated skipped {report.deactivated_skipped}."
    )
    for entry in report.unmatched:
        typer.echo(f"  no person in Regie for {entry}")


@teams_app.command("package")
def teams_package(
    app_id: Annotated[str, typer.Option("--app-id", help="The bot's Microsoft App ID (GUID).")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the zip.")] = Path(
        "regie-teams.zip"
    ),
    version: Annotated[str, typer.Option(help="App version (x.y.z).")] = "1.0.0",
    developer: Annotated[str, typer.Option(help="Developer name shown in Teams.")] = "Regie",
    website_url: Annotated[str, typer.Option(help="https URL of your Regie page.")] = "",
    privacy_url: Annotated[str, typer.Option(help="https URL of your privacy statement.")] = "",
    terms_url: Annotated[str, typer.Option(help="https URL of your terms of use.")] = "",
) -> None:
    """Build the Teams app package (manifest.json + icons) to upload in Teams."""
    from bot.channels.teams.package import PackageError, PackageSettings, write_package

    urls = {"website_url": website_url, "privacy_url": privacy_url, "terms_url": terms_url}
    try:
        settings = PackageSettings(
            app_id=app_id,
            version=version,
            developer_name=developer,
            **{key: value for key, value in urls.items() if value},
        )
        path = write_package(settings, out)
    except PackageError as error:
        err.print(f"[red]{error}[/]")
        raise typer.Exit(2) from error
    typer.echo(f"Wrote {path}. Upload it in Teams: Apps → Manage your apps → Upload an app.")


@app.command("run-due")
def run_due(
    now: Annotated[str | None, typer.Option(help="The instant, ISO 8601 (default: now).")] = None,
) -> None:
    """Run everything due at one instant once, then deliver what is due: for cron and tests."""
    import asyncio

    from bot.delivery import DeliveryWorker
    from bot.jobs import enqueue_due
    from bot.outbound import build_senders

    settings = _settings()
    engine = _ready_engine(settings)
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
    )
    report = asyncio.run(worker.run_once(limit=100_000))
    typer.echo(
        f"Due at {instant.isoformat()}: {added} new. Delivered {report.sent}, "
        f"retry later {report.failed}, dead {report.dead}, skipped {report.skipped}, "
        f"waiting in the console {report.console}."
    )


@outbox_app.command("status")
def outbox_status() -> None:
    """Counts per state, the oldest waiting message and why messages died."""
    from storage.outbox import status

    settings = _settings()
    with _db(settings) as db:
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
    from storage.outbox import retry_dead

    settings = _settings()
    with _db(settings) as db:
        revived = retry_dead(db, now=utcnow())
    typer.echo(f"{revived} message(s) back in the queue.")

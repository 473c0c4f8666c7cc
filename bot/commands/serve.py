"""`regie serve` and the platform administration commands (Slack, Teams)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.commands.common import database, err, log, ready_engine, settings_and_logging

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from bot.config import Settings
    from bot.health import Health
    from bot.senders import Sender

app = typer.Typer()
slack_app = typer.Typer(help="Slack administration.", no_args_is_help=True)
teams_app = typer.Typer(help="Microsoft Teams administration.", no_args_is_help=True)


@app.command()
def serve() -> None:
    """Run the chat channels that are configured, with one HTTP server (and GET /healthz)."""
    from aiohttp import web

    from bot.channels.registry import CHAT, Running, switches, where
    from bot.health import Health
    from bot.server import Handler, build_web_app
    from bot.web.app import setup_web
    from bot.wiring import build_runtime

    settings = settings_and_logging()
    engine = ready_engine(settings)
    runtime = build_runtime(settings, engine)
    running: list[Running] = []
    routes: dict[str, Handler] = {}
    for channel in CHAT:
        if not channel.is_on(settings):
            log.warning(channel.off)
            continue
        started = channel.factory().start(runtime, engine, settings)
        routes.update(started.routes)
        for note in started.notes:
            typer.echo(note)
        for warning in started.warnings:
            log.warning(warning)
        running.append(started)
    health = Health(delivery_stuck_after=timedelta(seconds=settings.delivery_stuck_after))
    web_app = build_web_app(channels=switches(settings), routes=routes, health=health)
    setup_web(web_app, engine, settings, content=runtime.content)
    _run_in_background(web_app, settings, engine, [r.sender for r in running], health)
    typer.echo(
        f"Regie is serving on {where(settings)} (GET /healthz; the web app at "
        f"{settings.base_url}/app/)."
    )
    web.run_app(web_app, host=settings.host, port=settings.port, print=None)


def _run_in_background(
    web_app: Any, settings: Settings, engine: Engine, senders: list[Sender], health: Health
) -> None:
    """The scheduler (one per deployment) and the outbox delivery worker, next to the
    channels, for as long as the web app runs."""
    import asyncio

    from bot.claims import SharedBudgets
    from bot.delivery import DeliveryWorker
    from bot.scheduler import start_scheduler

    worker = DeliveryWorker(
        engine,
        senders,
        stuck_after=timedelta(seconds=settings.outbox_stuck_after),
        shared=SharedBudgets.for_engine(engine),  # replicas keep to the platforms' limits
    )
    scheduler = start_scheduler(settings, engine, health)

    async def start(app: Any) -> None:
        app["delivery"] = asyncio.get_running_loop().create_task(
            worker.run_forever(on_pass=health.delivery_passed)
        )

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

    settings = settings_and_logging()
    if settings.slack_bot_token is None:
        err.print("[red]SLACK_BOT_TOKEN is not set.[/]")
        raise typer.Exit(2)
    with database(settings) as db:
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

"""``regie campaign``: HR campaigns from one YAML file (see docs/campaigns.md). This module holds
the ``campaign_app`` with every command in the order ``--help`` lists them, and the commands that
read a file or change a running campaign; launching is in ``campaign_launch``, following and
reporting in ``campaign_status``, authors in ``campaign_authors``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.commands import campaign_launch, campaign_status
from bot.commands.campaign_authors import authors_app
from bot.commands.campaign_common import (
    FileArg,
    IdArg,
    campaign_or_exit,
    or_exit,
    spec_or_exit,
    timing_notes,
)
from bot.commands.common import database, err, person_or_exit, settings_and_logging

if TYPE_CHECKING:
    from dialogs.campaigns.spec import CampaignSpec
    from dialogs.engine.content import Content
    from dialogs.engine.replies import Reply

campaign_app = typer.Typer(
    help="HR campaigns: validate, preview, launch, follow and report.", no_args_is_help=True
)


def validate(file: FileArg) -> None:
    """Check a campaign file: every problem with its line and YAML path (exit 1 if any)."""
    spec = spec_or_exit(file)
    workshops = f", {len(spec.workshops)} workshops" if spec.workshops else ""
    start = spec.start.isoformat() if spec.start else "each person's start date"
    typer.echo(
        f"{file}: OK. {spec.text(spec.name, spec.default_language)}: {len(spec.steps)} steps"
        f"{workshops}, day 0 = {start}."
    )
    _timing_for_audience(spec)


def _timing_for_audience(spec: CampaignSpec) -> None:
    """``validate``'s look at the audience in the database: workshop messages that would
    arrive after the workshop starts, per time zone (a file is valid either way)."""
    from sqlalchemy.engine import make_url

    from dialogs.campaigns.launch import CampaignError, plan_launch
    from storage.db import get_engine
    from storage.migrate import current_revision, head_revision
    from storage.models import utcnow

    settings = settings_and_logging()
    url = make_url(settings.database_url)
    missing = url.get_backend_name() == "sqlite" and not Path(url.database or "").exists()
    if missing or current_revision(get_engine(settings.database_url)) != head_revision():
        typer.echo("(Workshop timing is checked against the people in the database: none yet.)")
        return
    with database(settings) as db:
        try:
            people = plan_launch(db, spec, now=utcnow()).recipients
        except CampaignError:
            return
    timing_notes(spec, people, settings)


def preview(
    file: FileArg,
    email: Annotated[str, typer.Option("--as", help="E-mail of the person to preview as.")],
    channel: Annotated[
        str, typer.Option(help="slack, teams or console: the payload of that channel.")
    ] = "console",
) -> None:
    """Exactly what one person would receive for each step, and when (their local time)."""
    from zoneinfo import ZoneInfo

    from bot.wiring import policy
    from dialogs.campaigns.launch import plan_launch
    from dialogs.campaigns.messages import language_of, message
    from dialogs.campaigns.planner import send_at
    from dialogs.engine.content import load_content
    from storage import campaigns as stored
    from storage.models import utcnow

    if channel not in ("slack", "teams", "console"):
        err.print("[red]--channel must be slack, teams or console.[/]")
        raise typer.Exit(2)
    spec = spec_or_exit(file)
    settings = settings_and_logging()
    content = load_content()
    with database(settings) as db:
        person = person_or_exit(db, email)
        existing = stored.by_slug(db, spec.id)
        campaign_id = existing.id if existing and existing.id else 0
        in_audience = person.id in {p.id for p in plan_launch(db, spec, now=utcnow()).recipients}
    lang = language_of(spec, person)
    typer.echo(
        f"{spec.text(spec.name, lang)}, as {person.name} <{person.email}> ({lang}, {channel})"
    )
    if not in_audience:
        typer.echo("Note: this person is not in the campaign's audience (or opted out).")
    if not campaign_id:
        typer.echo("Note: not launched yet; buttons will carry the campaign's number once it is.")
    for step in spec.steps:
        at = send_at(spec, step, person, policy(settings))
        when = (
            at.astimezone(ZoneInfo(person.timezone)).strftime("%a %d %b %Y %H:%M %Z") if at else "-"
        )
        condition = (
            f", only if {step.only[0].replace('_', ' ')} to {step.only[1]}" if step.only else ""
        )
        typer.echo(f"\n── step {step.id}: day {step.day}, {when}{condition}")
        typer.echo(
            _payload(channel, message(content, spec, campaign_id, step, person), content, lang)
        )
    timing_notes(spec, [person], settings)


def _payload(channel: str, replies: list[Reply], content: Content, lang: str) -> str:
    def t(key: str, **values: Any) -> str:
        return content.text(lang, key, **values)

    if channel == "slack":
        from bot.channels.slack.blocks import messages

        posts = [{"text": m.text, "blocks": m.blocks} for m in messages(replies, t)]
        return json.dumps(posts, indent=2, ensure_ascii=False)
    if channel == "teams":
        from bot.channels.teams.cards import activities

        return json.dumps(activities(replies, t), indent=2, ensure_ascii=False)
    from bot.channels.console import render_with_buttons

    buttons: dict[str, str] = {}
    return "\n\n".join(render_with_buttons(reply, buttons) for reply in replies)


def pause_command(campaign: IdArg) -> None:
    """Hold every message not sent yet, until resume."""
    from dialogs.campaigns.launch import pause
    from storage.models import utcnow

    settings = settings_and_logging()
    with database(settings) as db:
        found = campaign_or_exit(db, campaign)
        held = or_exit(lambda: pause(db, found, now=utcnow()))
    typer.echo(f"Paused {found.slug}: {held} message(s) wait until you resume.")


def resume_command(campaign: IdArg) -> None:
    """Send the held messages again (a moment that passed moves to the next working day)."""
    from bot.wiring import policy
    from dialogs.campaigns.launch import resume
    from storage.models import utcnow

    settings = settings_and_logging()
    with database(settings) as db:
        found = campaign_or_exit(db, campaign)
        n = or_exit(lambda: resume(db, found, now=utcnow(), policy=policy(settings)))
    typer.echo(f"Resumed {found.slug}: {n} held message(s) back in the queue.")


def cancel_command(
    campaign: IdArg,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Stop for good: messages not sent yet are dropped; sent ones stay."""
    from dialogs.campaigns.launch import cancel
    from storage.models import utcnow

    settings = settings_and_logging()
    with database(settings) as db:
        found = campaign_or_exit(db, campaign)
        if not yes and not typer.confirm(f"Cancel {found.slug} for good?", default=False):
            raise typer.Exit(1)
        dropped = cancel(db, found, now=utcnow())
    typer.echo(f"Cancelled {found.slug}: {dropped} message(s) not sent yet were dropped.")


# every command, in the order ``regie campaign --help`` lists them (sub-apps come last)
campaign_app.command("validate")(validate)
campaign_app.command("preview")(preview)
campaign_app.command("launch")(campaign_launch.launch_command)
campaign_app.command("approve")(campaign_launch.approve_command)
campaign_app.command("decline")(campaign_launch.decline_command)
campaign_app.command("history")(campaign_launch.history_command)
campaign_app.command("pause")(pause_command)
campaign_app.command("resume")(resume_command)
campaign_app.command("cancel")(cancel_command)
campaign_app.command("list")(campaign_status.list_command)
campaign_app.command("status")(campaign_status.status_command)
campaign_app.command("report")(campaign_status.report_command)
campaign_app.add_typer(authors_app, name="authors")

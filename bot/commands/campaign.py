"""``regie campaign``: HR campaigns from one YAML file (see docs/campaigns.md)."""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console

from bot.commands.common import database, err, person_or_exit, settings_and_logging
from bot.commands.setup import OperatorOption

if TYPE_CHECKING:
    from sqlmodel import Session

    from bot.campaign_reports import Delivery
    from bot.config import Settings
    from dialogs.campaigns.launch import LaunchPlan
    from dialogs.campaigns.spec import CampaignSpec
    from dialogs.engine.content import Content
    from dialogs.engine.replies import Reply
    from storage.models import Campaign, Person

T = TypeVar("T")
campaign_app = typer.Typer(
    help="HR campaigns: validate, preview, launch, follow and report.", no_args_is_help=True
)
POLL_SECONDS = 1.0
"""How often ``status`` looks at the outbox while it follows a campaign."""
STALLED_AFTER = 30.0
"""Seconds without any change after which ``status`` says it is waiting for a delivery worker."""


def _out() -> Console:
    """Standard output; wide when piped (a log, a script): rows are never cut or wrapped."""
    return Console(width=None if sys.stdout.isatty() else 160)


FileArg = Annotated[Path, typer.Argument(help="The campaign file (YAML).")]
IdArg = Annotated[str, typer.Argument(help="The campaign's id (from its file) or number.")]


def _load(path: Path) -> CampaignSpec:
    from dialogs.campaigns.spec import CampaignFileError, load_file

    try:
        return load_file(path)
    except CampaignFileError as error:
        typer.echo(f"{path}: {len(error.problems)} problem(s)", err=True)
        for problem in error.problems:
            where = f"{path}:{problem.line or '?'}"
            typer.echo(f"  {where}  {problem.path or '(top)'}: {problem.message}", err=True)
        raise typer.Exit(1) from error


def _campaign(db: Session, ref: str) -> Campaign:
    from storage import campaigns as stored

    found = stored.find(db, ref)
    if found is None:
        err.print(f"[red]No campaign {ref!r}.[/] See [bold]regie campaign list[/].")
        raise typer.Exit(1)
    return found


@campaign_app.command("validate")
def validate(file: FileArg) -> None:
    """Check a campaign file: every problem with its line and YAML path (exit 1 if any)."""
    spec = _load(file)
    workshops = f", {len(spec.workshops)} workshops" if spec.workshops else ""
    start = spec.start.isoformat() if spec.start else "each person's start date"
    typer.echo(
        f"{file}: OK. {spec.text(spec.name, spec.default_language)}: {len(spec.steps)} steps"
        f"{workshops}, day 0 = {start}."
    )


@campaign_app.command("preview")
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
    spec = _load(file)
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


@campaign_app.command("launch")
def launch_command(
    file: FileArg,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would happen; change nothing.")
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", help="Do not ask for confirmation (scripts).")
    ] = False,
) -> None:
    """Launch a campaign (or apply the file's changes to a running one): the audience per
    language and channel and who cannot be reached, then, after confirming, queue it."""
    from bot.wiring import policy
    from dialogs.campaigns.launch import CampaignError, launch, plan_launch
    from dialogs.engine.content import load_content
    from storage.models import utcnow
    from storage.people import by_email

    spec = _load(file)
    settings = settings_and_logging()
    content = load_content()
    now = utcnow()
    with database(settings) as db:
        try:
            plan = plan_launch(db, spec, now=now)
        except CampaignError as error:
            err.print(f"[red]{error}[/]")
            raise typer.Exit(1) from error
        owner = by_email(db, spec.owner)
        if owner is None:
            err.print(f"[red]owner: nobody with e-mail {spec.owner}[/] (import them first).")
            raise typer.Exit(1)
        _describe(db, settings, plan)
        if plan.unchanged:
            typer.echo("Already running, and the file has not changed: nothing to do.")
            return
        if dry_run:
            typer.echo("Dry run: nothing was changed.")
            return
        question = "Apply these changes?" if plan.is_edit else "Launch it now?"
        if not yes and not typer.confirm(question, default=False):
            typer.echo("Not launched.")
            raise typer.Exit(1)
        campaign = launch(db, content, plan, owner=owner, now=now, policy=policy(settings))
        slug = campaign.slug
    if plan.is_edit:
        typer.echo(
            f"Changes applied: {plan.updated_messages} waiting message(s) updated, "
            f"{plan.dropped_messages} dropped, {plan.new_recipients} new recipient(s). "
            "Messages already sent stay as they were."
        )
    else:
        typer.echo(f"Launched {slug}: {plan.queued} message(s) queued.")
    typer.echo(f"Follow it with: regie campaign status {slug}")


def _describe(db: Session, settings: Settings, plan: LaunchPlan) -> None:
    from rich.table import Table

    from bot.channels.registry import Reachability
    from dialogs.campaigns.messages import language_of
    from storage.privacy import MinimumGroup

    spec = plan.spec
    if plan.is_edit:
        changed = ", ".join(plan.changed_steps) or "none"
        typer.echo(
            f"{spec.id} is already running (version {plan.existing.version if plan.existing else 1})."  # noqa: E501
        )
        typer.echo(
            f"Steps changed: {changed}. Steps removed: {', '.join(plan.removed_steps) or 'none'}."
        )
        typer.echo("Only messages not sent yet change; messages already sent stay as they were.")
    typer.echo(f"Audience of {spec.id}: {plan.reaching} people")
    table = Table()
    table.add_column("language")
    table.add_column("channel")
    table.add_column("people", justify="right")
    channels: Counter[tuple[str, str]] = Counter()
    unreachable: list[tuple[Person, str]] = []
    reach = Reachability.load(db, settings)
    for person in plan.recipients:
        channel, reason = reach.of(person)
        channels[(language_of(spec, person), channel)] += 1
        if reason:
            unreachable.append((person, reason))
    for (lang, channel), n in sorted(channels.items()):
        table.add_row(lang, channel, str(n))
    _out().print(table)
    opted_out, paused = plan.choices(settings.min_group_size)
    k = MinimumGroup.configured(settings.min_group_size).k
    typer.echo(
        f"Skipped and counted: {opted_out} opted out of campaigns (not in the audience above); "
        f"{paused} paused their nudges (no messages while paused). Counts of people under {k} "
        f"show as <{k}."
    )
    if unreachable:
        typer.echo(f"Not reachable in Slack or Teams ({len(unreachable)}):")
        for person, reason in unreachable[:50]:
            typer.echo(f"  {person.email}: {reason}")
        if len(unreachable) > 50:
            typer.echo(f"  … and {len(unreachable) - 50} more")


@campaign_app.command("pause")
def pause_command(campaign: IdArg) -> None:
    """Hold every message not sent yet, until resume."""
    from dialogs.campaigns.launch import pause
    from storage.models import utcnow

    settings = settings_and_logging()
    with database(settings) as db:
        found = _campaign(db, campaign)
        held = _or_exit(lambda: pause(db, found, now=utcnow()))
    typer.echo(f"Paused {found.slug}: {held} message(s) wait until you resume.")


@campaign_app.command("resume")
def resume_command(campaign: IdArg) -> None:
    """Send the held messages again (a moment that passed moves to the next working day)."""
    from bot.wiring import policy
    from dialogs.campaigns.launch import resume
    from storage.models import utcnow

    settings = settings_and_logging()
    with database(settings) as db:
        found = _campaign(db, campaign)
        n = _or_exit(lambda: resume(db, found, now=utcnow(), policy=policy(settings)))
    typer.echo(f"Resumed {found.slug}: {n} held message(s) back in the queue.")


@campaign_app.command("cancel")
def cancel_command(
    campaign: IdArg,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Stop for good: messages not sent yet are dropped; sent ones stay."""
    from dialogs.campaigns.launch import cancel
    from storage.models import utcnow

    settings = settings_and_logging()
    with database(settings) as db:
        found = _campaign(db, campaign)
        if not yes and not typer.confirm(f"Cancel {found.slug} for good?", default=False):
            raise typer.Exit(1)
        dropped = cancel(db, found, now=utcnow())
    typer.echo(f"Cancelled {found.slug}: {dropped} message(s) not sent yet were dropped.")


def _or_exit(fn: Callable[[], T]) -> T:
    from dialogs.campaigns.launch import CampaignError

    try:
        return fn()
    except CampaignError as error:
        err.print(f"[red]{error}[/]")
        raise typer.Exit(1) from error


@campaign_app.command("list")
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
    _out().print(table)


@campaign_app.command("status")
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
    out = _out()
    with database(settings) as db:
        found = _campaign(db, campaign)
    if watch and out.is_terminal:
        _follow(settings, found, out)
    with database(settings) as db:
        report = build(db, _campaign(db, campaign), min_group=settings.min_group_size, now=utcnow())
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


@campaign_app.command("report")
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
    operator: OperatorOption = None,
) -> None:
    """The campaign's figures (and, for its owner, who signed up for which workshop: each
    person on those lists sees that an administrator looked)."""
    from bot.campaign_reports import print_report, print_sign_ups, render_html, write_csv
    from bot.commands.setup import operator_name
    from dialogs.campaigns.report import build, sign_ups
    from storage.models import utcnow

    settings = settings_and_logging()
    out = _out()
    with database(settings) as db:
        found = _campaign(db, campaign)
        reader = person_or_exit(db, owner) if owner is not None else None
        report = build(db, found, min_group=settings.min_group_size, now=utcnow(), reader=reader)
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

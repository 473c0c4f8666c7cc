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
    from datetime import datetime

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
    _timing_notes(spec, people, settings)


def _timing_notes(spec: CampaignSpec, people: list[Person], settings: Settings) -> None:
    """Who would get a message about a workshop after it starts (per time zone), and which
    steps recent starters joined too late for: said before launching, never silently."""
    from bot.wiring import policy
    from dialogs.campaigns.timing import late_lines, missed_lines
    from storage.models import utcnow

    now = utcnow()
    late = late_lines(spec, people, policy=policy(settings), now=now)
    if late:
        typer.echo(
            "Workshop timing, per time zone (a message about a workshop never arrives after "
            "it starts):"
        )
        for line in late:
            typer.echo(f"  {line}")
    missed = missed_lines(spec, people, policy=policy(settings), now=now)
    if missed:
        typer.echo("Recent starters who joined after a step's moment (skipped for them):")
        for line in missed:
            typer.echo(f"  {line}")


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
    _timing_notes(spec, [person], settings)


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
    expect_hash: Annotated[
        str | None,
        typer.Option(
            "--expect-hash",
            help="Launch only if the file is still the version you previewed: its fingerprint "
            "as --dry-run prints it (at least its first 12 characters).",
        ),
    ] = None,
    author_email: Annotated[
        str | None,
        typer.Option("--as", help="The hr person launching it (default: the file's owner)."),
    ] = None,
    operator: OperatorOption = None,
) -> None:
    """Launch a campaign (or apply the file's changes to a running one): the audience per
    language and channel and who cannot be reached, then, after confirming, queue it. Over
    REGIE_CAMPAIGN_APPROVAL_OVER people, or outside the author's scope, it waits for a second
    hr or admin person to approve it (in chat, or with ``regie campaign approve``)."""
    from bot.commands.setup import operator_name
    from bot.wiring import policy
    from dialogs.campaigns import guardrails
    from dialogs.campaigns.launch import CampaignError, plan_launch
    from dialogs.engine.content import load_content
    from storage.models import utcnow
    from storage.privacy import Reader

    spec = _load(file)
    if expect_hash is not None and not _same_version(spec.hash, expect_hash):
        err.print(
            f"[red]{file} changed since it was previewed[/] (fingerprint now {spec.hash[:12]}, "
            f"expected {expect_hash.strip()[:12]}). Nothing was launched: preview it again with "
            "--dry-run, then launch with its new --expect-hash."
        )
        raise typer.Exit(1)
    settings = settings_and_logging()
    content = load_content()
    now = utcnow()
    with database(settings) as db:
        author = person_or_exit(db, author_email or spec.owner)
        try:
            plan = plan_launch(db, spec, now=now)
            guardrails.owner_of(db, plan)
            why = guardrails.reasons(
                db, plan, author, approval_over=settings.campaign_approval_over
            )
        except CampaignError as error:
            err.print(f"[red]{error}[/]")
            raise typer.Exit(1) from error
        _describe(db, settings, plan)
        typer.echo(f"Fingerprint of this version: {spec.hash}")
        if plan.unchanged:
            typer.echo("Already running, and the file has not changed: nothing to do.")
            return
        if why:
            typer.echo(
                f"Needs approval by a second hr or admin person: {_why(why, settings)}. "
                "Nothing is sent until then."
            )
        if dry_run:
            typer.echo("Dry run: nothing was changed.")
            return
        question = "Apply these changes?" if plan.is_edit else "Launch it now?"
        if why:
            question = "Ask a second person to approve it?"
        if not yes and not typer.confirm(question, default=False):
            typer.echo("Not launched.")
            raise typer.Exit(1)
        assert author.id is not None
        done = guardrails.submit(
            db,
            content,
            plan,
            author=author,
            actor=Reader(person_id=author.id, operator=operator_name(operator)),
            now=now,
            policy=policy(settings),
            approval_over=settings.campaign_approval_over,
        )
        if done.waiting:
            typer.echo(
                f"Waiting for approval by a second person (launch request {done.record.id}; "
                f"{done.asked} hr/admin colleague(s) asked in chat). To approve it here: "
                f"regie campaign approve {done.record.id} --as EMAIL"
            )
            return
        first = _first_send(plan, author, settings, now)
    _launched(plan, first)


def _same_version(fingerprint: str, expected: str) -> bool:
    wanted = expected.strip().lower()
    return len(wanted) >= 12 and fingerprint.startswith(wanted)


def _why(reasons: list[str], settings: Settings) -> str:
    said = {
        "size": f"more than {settings.campaign_approval_over} people",
        "scope": "people outside the author's campaign scope",
    }
    return " and ".join(said[reason] for reason in reasons)


def _first_send(plan: LaunchPlan, author: Person, settings: Settings, now: datetime) -> str:
    """When the first message goes out, in the author's time zone ("" when some are queued
    already, or nothing is still to come)."""
    from zoneinfo import ZoneInfo

    from bot.wiring import policy
    from dialogs.campaigns.launch import first_moment

    if plan.queued or plan.is_edit:
        return ""
    first = first_moment(plan, policy(settings), now=now)
    if first is None:
        return ""
    local = first.astimezone(ZoneInfo(author.timezone))
    return f"{local:%a} {local.day} {local:%b %Y %H:%M %Z}"


def _launched(plan: LaunchPlan, first: str) -> None:
    slug = plan.spec.id
    if plan.is_edit:
        typer.echo(
            f"Changes applied: {plan.updated_messages} waiting message(s) updated, "
            f"{plan.dropped_messages} dropped, {plan.new_recipients} new recipient(s). "
            "Messages already sent stay as they were."
        )
    elif first:
        typer.echo(
            f"Launched {slug}: 0 queued now; the first messages go out {first} "
            "(messages are queued a day ahead, at each person's own local time)."
        )
    else:
        typer.echo(f"Launched {slug}: {plan.queued} message(s) queued.")
    typer.echo(f"Follow it with: regie campaign status {slug}")


RequestArg = Annotated[int, typer.Argument(help="The launch request's number.")]
AsOption = Annotated[str, typer.Option("--as", help="Your e-mail (an hr or admin person).")]


@campaign_app.command("approve")
def approve_command(
    request: RequestArg,
    email: AsOption,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    operator: OperatorOption = None,
) -> None:
    """Approve someone else's launch that waits for a second person: shows exactly what was
    previewed and its audience, then launches that version."""
    from bot.commands.setup import operator_name
    from bot.wiring import policy
    from dialogs.campaigns import guardrails
    from dialogs.engine.content import load_content
    from storage.models import Person, utcnow
    from storage.privacy import Reader

    settings = settings_and_logging()
    content = load_content()
    now = utcnow()
    with database(settings) as db:
        approver = person_or_exit(db, email)
        record, plan = _or_exit(lambda: guardrails.pending_launch(db, request, now=now))
        asker = db.get(Person, record.requested_by_id) if record.requested_by_id else None
        typer.echo(
            f"Launch request {request}: {record.slug}, asked by "
            f"{asker.email if asker else 'someone no longer here'} at "
            f"{record.requested_at:%Y-%m-%d %H:%M} UTC; it needs a second person for "
            f"{_why(record.reasons, settings)}."
        )
        _describe(db, settings, plan)
        for step in plan.spec.steps:
            text = plan.spec.text(step.message, plan.spec.default_language)
            when = step.time or settings.nudge_time
            typer.echo(f"  step {step.id} (day {step.day}, {when}): {text}")
        typer.echo(f"Fingerprint of this version: {record.spec_hash}")
        if not yes and not typer.confirm("Approve and launch it now?", default=False):
            typer.echo("Not approved; it keeps waiting.")
            raise typer.Exit(1)
        assert approver.id is not None
        actor = Reader(person_id=approver.id, operator=operator_name(operator))
        done = _or_exit(
            lambda: guardrails.approve(
                db,
                content,
                request,
                approver=approver,
                actor=actor,
                now=now,
                policy=policy(settings),
            )
        )
        first = _first_send(done.plan, approver, settings, now)
    typer.echo(f"Approved by {approver.email}.")
    _launched(done.plan, first)


@campaign_app.command("decline")
def decline_command(request: RequestArg, email: AsOption, operator: OperatorOption = None) -> None:
    """Decline a launch that waits for a second person (whoever asked hears so)."""
    from bot.commands.setup import operator_name
    from dialogs.campaigns import guardrails
    from dialogs.engine.content import load_content
    from storage.models import utcnow
    from storage.privacy import Reader

    settings = settings_and_logging()
    with database(settings) as db:
        person = person_or_exit(db, email)
        assert person.id is not None
        actor = Reader(person_id=person.id, operator=operator_name(operator))
        record = _or_exit(
            lambda: guardrails.decline(
                db, load_content(), request, by=person, actor=actor, now=utcnow()
            )
        )
    typer.echo(f"Declined launch request {request} of {record.slug}; nothing was sent.")


@campaign_app.command("history")
def history_command(campaign: IdArg) -> None:
    """Every launch and edit asked for: when, by whom, its fingerprint and audience, and who
    approved or declined it."""
    from rich.table import Table

    from storage import campaign_guardrails as guard
    from storage.models import Person

    settings = settings_and_logging()
    table = Table()
    for column in ("#", "asked", "by", "people", "fingerprint", "needs", "state", "decided by"):
        table.add_column(column)
    with database(settings) as db:
        found = guard.history(db, campaign)
        if not found:
            err.print(f"[red]No launches of {campaign!r}.[/]")
            raise typer.Exit(1)

        def email(person_id: int | None) -> str:
            person = db.get(Person, person_id) if person_id else None
            return person.email if person else "-"

        for row in found:
            decided = "-"
            if row.decided_at is not None:
                decided = f"{email(row.decided_by_id)} {row.decided_at:%Y-%m-%d %H:%M}"
            table.add_row(
                str(row.id),
                f"{row.requested_at:%Y-%m-%d %H:%M}",
                email(row.requested_by_id),
                str(row.audience),
                row.spec_hash[:12],
                ", ".join(row.reasons) or "-",
                row.state,
                decided,
            )
    _out().print(table)


authors_app = typer.Typer(
    help="Campaign authors: hr people and whom they may reach without a second person.",
    no_args_is_help=True,
)
campaign_app.add_typer(authors_app, name="authors")
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
    _out().print(table)


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
    _timing_notes(spec, plan.recipients, settings)


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
    out = _out()
    with database(settings) as db:
        found = _campaign(db, campaign)
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

"""``regie campaign launch``, ``approve``, ``decline`` and ``history``: launching a campaign
file, the second person's yes or no when a launch needs one, and every launch asked for."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.commands.campaign_common import FileArg, IdArg, or_exit, spec_or_exit, stdout
from bot.commands.campaign_plan import describe, first_send, launched, reasons_said
from bot.commands.common import database, err, person_or_exit, settings_and_logging
from bot.commands.setup import OperatorOption


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

    spec = spec_or_exit(file)
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
        describe(db, settings, plan)
        typer.echo(f"Fingerprint of this version: {spec.hash}")
        if plan.unchanged:
            typer.echo("Already running, and the file has not changed: nothing to do.")
            return
        if why:
            typer.echo(
                f"Needs approval by a second hr or admin person: {reasons_said(why, settings)}. "
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
        first = first_send(plan, author, settings, now)
    launched(plan, first)


def _same_version(fingerprint: str, expected: str) -> bool:
    wanted = expected.strip().lower()
    return len(wanted) >= 12 and fingerprint.startswith(wanted)


RequestArg = Annotated[int, typer.Argument(help="The launch request's number.")]
AsOption = Annotated[str, typer.Option("--as", help="Your e-mail (an hr or admin person).")]


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
        record, plan = or_exit(lambda: guardrails.pending_launch(db, request, now=now))
        asker = db.get(Person, record.requested_by_id) if record.requested_by_id else None
        typer.echo(
            f"Launch request {request}: {record.slug}, asked by "
            f"{asker.email if asker else 'someone no longer here'} at "
            f"{record.requested_at:%Y-%m-%d %H:%M} UTC; it needs a second person for "
            f"{reasons_said(record.reasons, settings)}."
        )
        describe(db, settings, plan)
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
        done = or_exit(
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
        first = first_send(done.plan, approver, settings, now)
    typer.echo(f"Approved by {approver.email}.")
    launched(done.plan, first)


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
        record = or_exit(
            lambda: guardrails.decline(
                db, load_content(), request, by=person, actor=actor, now=utcnow()
            )
        )
    typer.echo(f"Declined launch request {request} of {record.slug}; nothing was sent.")


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
    stdout().print(table)

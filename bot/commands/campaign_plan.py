"""How a launch plan is told on the command line (``launch`` and ``approve``): its audience per
language and channel, why it waits for a second person, and what launching it did."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

import typer

from bot.commands.campaign_common import stdout, timing_notes

if TYPE_CHECKING:
    from datetime import datetime

    from sqlmodel import Session

    from bot.config import Settings
    from dialogs.campaigns.launch import LaunchPlan
    from storage.models import Person


def describe(db: Session, settings: Settings, plan: LaunchPlan) -> None:
    """The plan's audience per language and channel, who is skipped and who cannot be
    reached, and its timing notes (for a running campaign: what changes first)."""
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
    stdout().print(table)
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
    timing_notes(spec, plan.recipients, settings)


def reasons_said(reasons: list[str], settings: Settings) -> str:
    """Why a launch needs a second person, in words."""
    said = {
        "size": f"more than {settings.campaign_approval_over} people",
        "scope": "people outside the author's campaign scope",
    }
    return " and ".join(said[reason] for reason in reasons)


def first_send(plan: LaunchPlan, author: Person, settings: Settings, now: datetime) -> str:
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


def launched(plan: LaunchPlan, first: str) -> None:
    """What launching (or applying an edit) did, and how to follow it."""
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

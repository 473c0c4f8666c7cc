"""What "My team" shows a manager: the digest of what each direct report shared since a
chosen day, composed by the digest's own composer (``dialogs.nudges.digest.compose``), so the
reads are the same guarded, audited reads (``storage.privacy.read_team``, ``team_counts``
only over groups of at least K) and the text is the same renderer as in chat.

Per report, the next growth conversation and the agenda the employee chose to bring, with
the chat's starters: read through ``storage.conversations.read_agenda`` (guarded, audited as
``agenda_read``) and written by the chat's own ``agenda_text``; nothing when nothing was
brought.

One report's page reads through ``read_team`` too and is audited for that one person only.
Someone who is not the person's manager gets nothing: the caller refuses and audits the
attempt (``storage.refusals``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.web.templating import Words
from dialogs.engine.content import Content
from dialogs.flows.growth import agenda_text
from dialogs.nudges.digest import DEFAULT_WINDOW, compose
from dialogs.nudges.manager_view import render_shared
from storage import conversations as talks
from storage.models import Person
from storage.people import direct_reports
from storage.privacy import Reader, SharedItems, read_team, record_reads


@dataclass(frozen=True)
class Growth:
    """A report's next growth conversation with this manager."""

    when: str
    agenda: str | None
    """What the employee chose to bring, as the chat shows it (None: nothing brought)."""
    starters: str | None
    """The chat's conversation starters, with a brought agenda."""


@dataclass(frozen=True)
class ReportRow:
    person: Person
    text: str | None
    """What they shared since the chosen day, as the digest renders it (None: nothing new)."""
    growth: Growth | None = None


@dataclass(frozen=True)
class TeamPage:
    manager: Person
    since: date
    since_label: str
    reports: list[ReportRow]
    team: str | None
    """Team counts, only over a group of at least K people who allow aggregates."""
    starters: list[str]


@dataclass(frozen=True)
class ReportPage:
    manager: Person
    report: Person
    since: date
    since_label: str
    text: str
    growth: Growth | None = None


def default_since(manager: Person, *, now: datetime) -> date:
    """The digest's own look-back, as a day in the manager's zone."""
    return (now - DEFAULT_WINDOW).astimezone(ZoneInfo(manager.timezone)).date()


def start_of(day: date, zone: str) -> datetime:
    """Local midnight of ``day`` where the manager lives, in UTC."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def build(
    db: Session,
    content: Content,
    manager: Person,
    *,
    now: datetime,
    since: date,
    min_group: int,
) -> TeamPage:
    """Audited as the manager's read now: one entry per report whose items it shows, and the
    team counts (about the group) when there is news to show them with."""
    assert manager.id is not None
    digest = compose(
        db,
        content,
        manager,
        now=now,
        min_group=min_group,
        since=start_of(since, manager.timezone) - timedelta(microseconds=1),
        reader=Reader.of(manager),
        audited=True,
    )
    by_person = dict(zip(digest.subjects, digest.sections, strict=True))
    reports = [
        ReportRow(
            report,
            by_person.get(report.id or 0),
            growth_of(db, content, manager, report, now=now),
        )
        for report in direct_reports(db, manager.id)
    ]
    return TeamPage(
        manager=manager,
        since=since,
        since_label=Words(content, manager.language, manager.timezone).date(since),
        reports=reports,
        team=None if digest.empty else digest.team,
        starters=[] if digest.empty else digest.starters,
    )


def build_report(
    db: Session,
    content: Content,
    manager: Person,
    report_id: int,
    *,
    now: datetime,
    since: date,
) -> ReportPage | None:
    """One direct report's shared items since ``since``; None when ``report_id`` is not a
    direct report of ``manager`` (nothing is read then)."""
    shared = read_team(
        db,
        manager=manager,
        since=start_of(since, manager.timezone) - timedelta(microseconds=1),
        audited=False,
    )
    if report_id not in shared:
        return None
    report = db.get(Person, report_id)
    assert report is not None
    items = shared.get(report_id, SharedItems())
    if items:
        record_reads(
            db, reader=Reader.of(manager), subjects=[report_id], at=now, detail={"what": "digest"}
        )
    return ReportPage(
        manager=manager,
        report=report,
        since=since,
        since_label=Words(content, manager.language, manager.timezone).date(since),
        text=render_shared(content, manager.language, report, items),
        growth=growth_of(db, content, manager, report, now=now),
    )


def growth_of(
    db: Session, content: Content, manager: Person, report: Person, *, now: datetime
) -> Growth | None:
    """The report's next growth conversation (from the manager's today on) and the agenda
    they brought: read as in chat, so a read of an agenda is audited (``agenda_read``) and
    a conversation with another manager shows nothing."""
    assert report.id is not None
    today = now.astimezone(ZoneInfo(manager.timezone)).date()
    found = talks.upcoming(db, report.id, today=today)
    if found is None or found.manager_id != manager.id:
        return None
    lang = manager.language
    agenda = talks.read_agenda(db, manager=manager, conversation=found, now=now)
    words = Words(content, lang, manager.timezone)
    return Growth(
        when=words.date(found.planned_for),
        agenda=agenda_text(content, agenda, report, lang) if agenda else None,
        starters=content.text(lang, "growth.starters") if agenda else None,
    )

"""The manager's digest: what each direct report chose to share since the last digest, a few
team counts (only over groups big enough to hide individuals, never text), and two or three
conversation starters that fit what was shared."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, func, select

from dialogs.engine.assistant import Assistant
from dialogs.engine.calendar import NudgePolicy, slot
from dialogs.engine.content import Content
from dialogs.engine.replies import Reply, Say, reply_to_dict
from dialogs.engine.text import shorten
from dialogs.nudges.manager_view import render_shared
from storage.models import ExperimentStatus, Outbound, Person
from storage.outbox import OutboxMessage
from storage.people import direct_reports, first_name, managers
from storage.privacy import SharedItems, read_team, team_counts

DIGEST_KIND = "digest"
DEFAULT_WINDOW = timedelta(days=30)
"""A manager's first digest looks back this far; later ones start at the previous digest."""


@dataclass
class Digest:
    manager: Person
    sections: list[str] = field(default_factory=list)
    team: str | None = None
    starters: list[str] = field(default_factory=list)
    opening: str | None = None
    """Two sentences from the assistant (only with AI assistance on), from shared items only."""

    @property
    def empty(self) -> bool:
        return not self.sections and self.team is None


def last_digest(db: Session, manager_id: int) -> datetime | None:
    return db.exec(
        select(func.max(Outbound.created_at)).where(
            Outbound.person_id == manager_id, Outbound.kind == DIGEST_KIND
        )
    ).one()


def compose(
    db: Session,
    content: Content,
    manager: Person,
    *,
    now: datetime,
    min_group: int,
    since: datetime | None = None,
    assistant: Assistant | None = None,
) -> Digest:
    """Reads go through :mod:`storage.privacy` (audited): shared items of direct reports only.
    The assistant's opening sees exactly those items and nothing else; it comes from the model
    only when ``db`` is run by :func:`dialogs.engine.assistant.run_in_transaction` (the model
    is asked after this transaction is rolled back, and the digest composed again with its
    answer)."""
    assert manager.id is not None
    lang = manager.language
    since = since or last_digest(db, manager.id) or now - DEFAULT_WINDOW
    digest = Digest(manager)
    news: list[tuple[Person, SharedItems]] = []
    shared = read_team(db, manager=manager, since=since, now=now)
    for report in direct_reports(db, manager.id):
        items = shared.get(report.id or 0, SharedItems())
        if items:
            news.append((report, items))
            digest.sections.append(render_shared(content, lang, report, items))
    counts = team_counts(db, manager=manager, since=now - timedelta(days=90), min_group=min_group)
    if counts is not None:
        digest.team = content.text(
            lang,
            "digest.team",
            experimenting=counts.with_experiment,
            checked_in=counts.checked_in,
            people=counts.people,
        )
    digest.starters = _starters(content, lang, news)
    if assistant is not None and news:
        digest.opening = assistant.digest_opening(db, manager, news)
    return digest


def _starters(content: Content, lang: str, news: list[tuple[Person, SharedItems]]) -> list[str]:
    """Fitting questions first (a finished experiment's lesson, a dream), then general ones."""
    found: list[str] = []
    for person, items in news:
        first = first_name(person.name)
        for experiment in items.experiments:
            if experiment.status == ExperimentStatus.DONE and experiment.learned:
                title = shorten(experiment.title, 80)
                found.append(content.text(lang, "digest.starters.learned", name=first, title=title))
        for answer in items.answers:
            if answer.question_id == "dot-on-horizon":
                found.append(content.text(lang, "digest.starters.horizon", name=first))
        if items.plan_items:
            found.append(content.text(lang, "digest.starters.plan", name=first))
    for general in ("general_1", "general_2", "general_3"):
        found.append(content.text(lang, f"digest.starters.{general}"))
    unique = list(dict.fromkeys(found))
    return unique[:3]


def as_replies(content: Content, digest: Digest) -> list[Reply]:
    """The digest as replies, one section a message part, so channels split it sensibly."""
    lang = digest.manager.language
    name = first_name(digest.manager.name)
    if digest.empty:
        return [Say(content.text(lang, "digest.nothing_new", name=name))]
    replies: list[Reply] = [Say(content.text(lang, "digest.intro", name=name), section=True)]
    if digest.opening:
        replies.append(Say(digest.opening, section=True))
    replies += [Say(section, section=True) for section in digest.sections]
    if not digest.sections:
        replies.append(Say(content.text(lang, "digest.no_news"), section=True))
    if digest.team:
        replies.append(Say(digest.team, section=True))
    starters = "\n".join(f"• {s}" for s in digest.starters)
    heading = content.text(lang, "digest.starters_heading")
    replies.append(Say(heading + "\n" + starters, section=True))
    return replies


def due_digests(
    db: Session,
    content: Content,
    *,
    now: datetime,
    min_group: int,
    weekday: int = 0,
    clock: str = "09:00",
    grace: timedelta = timedelta(hours=24),
    nothing_new_note: bool = False,
    cadence: str = "weekly",
    assistant: Assistant | None = None,
) -> list[OutboxMessage]:
    """Digests due at ``now``, for ``storage.outbox.enqueue_many``: each manager's local
    Monday 09:00 (or the first working day after), in their rhythm; recorded as skipped when
    nothing was shared, unless a note is wanted. Run it through
    :func:`dialogs.engine.assistant.run_in_transaction` (as ``bot/jobs.py`` does): the openings
    of all due digests are then asked for together, with no transaction open."""
    found: list[OutboxMessage] = []
    for manager in managers(db):
        assert manager.id is not None
        local_today = now.astimezone(ZoneInfo(manager.timezone)).date()
        monday = local_today - timedelta(days=(local_today.weekday() - weekday) % 7)
        policy = NudgePolicy(time=clock, country=manager.country)
        at = slot(_at_clock(manager, clock), monday, policy)
        if not (at <= now <= at + grace):
            continue
        key = f"{DIGEST_KIND}:{manager.id}:{monday.isoformat()}"
        if db.exec(select(Outbound.id).where(Outbound.idempotency_key == key)).first():
            continue
        if not _in_rhythm(db, manager, monday, manager.digest_cadence or cadence):
            continue
        digest = compose(db, content, manager, now=now, min_group=min_group, assistant=assistant)
        payload = [reply_to_dict(r) for r in as_replies(content, digest)]
        skipped = digest.empty and not nothing_new_note
        found.append(OutboxMessage(key, manager.id, DIGEST_KIND, at, payload, skipped=skipped))
    return found


def _in_rhythm(db: Session, manager: Person, week: date, cadence: str) -> bool:
    """Weekly: every week. Monthly: the first week of the month. Biweekly: two weeks or more
    after the previous digest (counting skipped, empty weeks)."""
    if cadence == "monthly":
        return week.day <= 7
    if cadence == "biweekly":
        assert manager.id is not None
        previous = last_digest(db, manager.id)
        return previous is None or (week - previous.date()).days >= 13
    return True


def _at_clock(manager: Person, clock: str) -> Person:
    """The manager as the slot sees them: digests come at the digest time, not their nudge
    time, and are not held back by a nudge pause."""
    return manager.model_copy(update={"nudge_time": clock, "nudge_paused_until": None})

"""The manager's digest: what each direct report chose to share since the last digest, a few
team counts (only over groups big enough to hide individuals, never text), and two or three
conversation starters that fit what was shared.

A digest is queued at the manager's slot (:func:`due_digests`) and composed again when it is
delivered (:func:`at_delivery`), from what is shared *then*: an item made private meanwhile
never reaches the manager, and the AI opening is kept only when every item it was written from
is still shared. Reads are audited when the manager gets the digest — delivered, shown in the
console, or asked for in chat — never when a digest is only queued. Each payload part names
the people whose data it shows (``storage.outbox.ABOUT``), so forgetting someone removes
their part from every digest, sent or not.

A nudge pause does not hold a digest back: the digest is the manager's information about
their team, not a nudge to them, and it waits in the chat until they look. A manager who
wants none chooses the ``off`` rhythm."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, func, select

from dialogs.engine.assistant import Assistant
from dialogs.engine.calendar import NudgePolicy, slot
from dialogs.engine.content import Content
from dialogs.engine.replies import Reply, Say, reply_to_dict
from dialogs.engine.text import shorten
from dialogs.nudges.manager_view import render_shared
from storage.models import ExperimentStatus, Outbound, Person
from storage.outbox import ABOUT, OutboxMessage
from storage.people import first_name, managers
from storage.privacy import (
    Reader,
    SharedItems,
    Team,
    TeamCounts,
    item_refs,
    read_teams,
    record_aggregate,
    record_reads,
    teams_counts,
)

DIGEST_KIND = "digest"
DEFAULT_WINDOW = timedelta(days=30)
"""A manager's first digest looks back this far; later ones start at the previous digest."""
RECIPE = "digest"
"""The key of the queued digest's recipe in its first payload part: since when, the group
size for team counts, whether an empty digest is sent as a note, and the items it showed."""
OPENING = "opening"
"""A payload part's ``part``: the AI opening (kept at delivery only if all of it still holds)."""
OFF = "off"
"""A manager's digest rhythm when they want no digest."""


@dataclass
class Digest:
    manager: Person
    sections: list[str] = field(default_factory=list)
    team: str | None = None
    starters: list[str] = field(default_factory=list)
    opening: str | None = None
    """Two sentences from the assistant (only with AI assistance on), from shared items only."""
    subjects: list[int] = field(default_factory=list)
    """The report behind each section, in order: whose data the digest shows."""
    starters_about: list[list[int]] = field(default_factory=list)
    """Per starter, the people it names (none for a general one)."""
    team_people: int | None = None
    """The size of the group the team counts are over (None: no team counts)."""
    items: list[str] = field(default_factory=list)
    """References of the items it shows (``experiment:12``)."""
    since: datetime | None = None
    """The start of what it covers (the previous digest, or the first one's look-back)."""

    @property
    def empty(self) -> bool:
        """Nothing new was shared: the digest is one line saying so (team counts alone are no
        news, and are then neither shown nor read)."""
        return not self.sections


def last_digest(db: Session, manager_id: int, *, before: datetime | None = None) -> datetime | None:
    """When the manager's previous digest went out (or was due, when it has not gone)."""
    moment = func.coalesce(Outbound.sent_at, Outbound.created_at)
    query = select(func.max(moment)).where(
        Outbound.person_id == manager_id, Outbound.kind == DIGEST_KIND
    )
    if before is not None:
        query = query.where(col(Outbound.created_at) < before)
    found: datetime | None = db.exec(query).one()
    return found


def compose(
    db: Session,
    content: Content,
    manager: Person,
    *,
    now: datetime,
    min_group: int,
    since: datetime | None = None,
    assistant: Assistant | None = None,
    reader: Reader | None = None,
    audited: bool = True,
) -> Digest:
    """Reads go through :mod:`storage.privacy`: shared items of direct reports only. Audited
    as read now — by ``reader``, or the manager — unless ``audited=False`` (a digest on its
    way: :func:`record_delivered` audits it when the manager gets it). The assistant's opening
    sees exactly those items and nothing else; it comes from the model only when ``db`` is run
    by :func:`dialogs.engine.assistant.run_in_transaction` (the model is asked after this
    transaction is rolled back, and the digest composed again with its answer)."""
    assert manager.id is not None
    since = since or last_digest(db, manager.id) or now - DEFAULT_WINDOW
    return compose_many(
        db,
        content,
        [manager],
        now=now,
        min_group=min_group,
        since={manager.id: since},
        assistant=assistant,
        reader=reader,
        audited=audited,
    )[0]


BATCH = 250
"""Managers whose teams are read together: a few queries per batch, memory bounded by it."""


def compose_many(
    db: Session,
    content: Content,
    managers: Sequence[Person],
    *,
    now: datetime,
    min_group: int,
    since: Mapping[int, datetime],
    assistant: Assistant | None = None,
    reader: Reader | None = None,
    audited: bool = True,
) -> list[Digest]:
    """:func:`compose` for many managers (each from their own ``since``, by manager id), in
    the managers' order: their teams and team counts are read in a few queries per
    :data:`BATCH` of managers (``storage.privacy.read_teams``, ``teams_counts``), and each
    digest audited as :func:`compose` audits it, read by ``reader`` or its own manager."""
    digests: list[Digest] = []
    for start in range(0, len(managers), BATCH):
        batch = managers[start : start + BATCH]
        teams = read_teams(db, managers=batch, since=since)
        counts = teams_counts(
            db,
            teams={manager_id: team.reports for manager_id, team in teams.items()},
            since=now - timedelta(days=90),
            min_group=min_group,
        )
        for manager in batch:
            assert manager.id is not None
            team = teams[manager.id]
            digest = _composed(content, manager, team, counts[manager.id], since[manager.id])
            if assistant is not None and digest.subjects:
                news = [(r, team.shared[r.id]) for r in team.reports if r.id in digest.subjects]
                digest.opening = assistant.digest_opening(db, manager, news)
            if audited:
                record_delivered(db, digest, reader=reader or Reader.of(manager), at=now)
            digests.append(digest)
    return digests


def _composed(
    content: Content, manager: Person, team: Team, counts: TeamCounts | None, since: datetime
) -> Digest:
    """One manager's digest from what their team shared and the team's counts."""
    lang = manager.language
    digest = Digest(manager, since=since)
    news: list[tuple[Person, SharedItems]] = []
    for report in team.reports:
        items = team.shared.get(report.id or 0, SharedItems())
        if items and report.id is not None:
            news.append((report, items))
            digest.sections.append(render_shared(content, lang, report, items))
            digest.subjects.append(report.id)
            digest.items += item_refs(items)
    if counts is not None:
        digest.team_people = counts.people
        digest.team = content.text(
            lang,
            "digest.team",
            experimenting=counts.with_experiment,
            checked_in=counts.checked_in,
            people=counts.people,
        )
    starters = _starters(content, lang, news)
    digest.starters = [text for text, _ in starters]
    digest.starters_about = [about for _, about in starters]
    return digest


def record_delivered(db: Session, digest: Digest, *, reader: Reader, at: datetime) -> None:
    """The manager (or whoever ``reader`` is) has the digest in front of them now: one read
    per report whose data it shows, and the team counts (about a group, no one in it)."""
    record_reads(db, reader=reader, subjects=digest.subjects, at=at, detail={"what": "digest"})
    if digest.team_people is not None and not digest.empty:
        record_aggregate(db, reader=reader, people=digest.team_people, at=at)


def _starters(
    content: Content, lang: str, news: list[tuple[Person, SharedItems]]
) -> list[tuple[str, list[int]]]:
    """Fitting questions first (a finished experiment's lesson, a dream), then general ones;
    each with the people it names."""
    found: list[tuple[str, list[int]]] = []
    for person, items in news:
        first = first_name(person.name)
        about = [person.id] if person.id is not None else []
        for experiment in items.experiments:
            if experiment.status == ExperimentStatus.DONE and experiment.learned:
                title = shorten(experiment.title, 80)
                text = content.text(lang, "digest.starters.learned", name=first, title=title)
                found.append((text, about))
        for answer in items.answers:
            if answer.question_id == "dot-on-horizon":
                found.append((content.text(lang, "digest.starters.horizon", name=first), about))
        if items.plan_items:
            found.append((content.text(lang, "digest.starters.plan", name=first), about))
    for general in ("general_1", "general_2", "general_3"):
        found.append((content.text(lang, f"digest.starters.{general}"), []))
    unique: dict[str, list[int]] = {}
    for text, about in found:
        unique.setdefault(text, []).extend(about)
    return list(unique.items())[:3]


def _parts(content: Content, digest: Digest) -> list[tuple[Reply, list[int], str]]:
    """The digest's replies, each with the people whose data it shows and what part it is."""
    lang = digest.manager.language
    name = first_name(digest.manager.name)
    if digest.empty:
        if digest.since is None:
            return [(Say(content.text(lang, "digest.nothing_new")), [], "note")]
        note = content.text(lang, "digest.nothing_new_since", date=_since_date(digest, content))
        return [(Say(note), [], "note")]
    intro = Say(content.text(lang, "digest.intro", name=name), section=True)
    parts: list[tuple[Reply, list[int], str]] = [(intro, [], "intro")]
    if digest.opening:
        parts.append((Say(digest.opening, section=True), list(digest.subjects), OPENING))
    for n, section in enumerate(digest.sections):
        about = [digest.subjects[n]] if n < len(digest.subjects) else []
        parts.append((Say(section, section=True), about, "section"))
    if digest.team:
        parts.append((Say(digest.team, section=True), [], "team"))
    starters = "\n".join(f"• {s}" for s in digest.starters)
    heading = content.text(lang, "digest.starters_heading")
    named = sorted({pid for about in digest.starters_about for pid in about})
    parts.append((Say(heading + "\n" + starters, section=True), named, "starters"))
    return parts


def _since_date(digest: Digest, content: Content) -> str:
    """The day the digest's news starts, in the manager's own zone and language."""
    since = digest.since
    assert since is not None
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    local = since.astimezone(ZoneInfo(digest.manager.timezone)).date()
    return content.date(digest.manager.language, local)


def as_replies(content: Content, digest: Digest) -> list[Reply]:
    """The digest as replies, one section a message part, so channels split it sensibly."""
    return [reply for reply, _, _ in _parts(content, digest)]


def as_payload(
    content: Content, digest: Digest, *, recipe: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The digest as outbox payload: its replies, each part naming whose data it shows
    (``ABOUT``), and the recipe to compose it again at delivery in the first part."""
    payload: list[dict[str, Any]] = []
    for reply, about, part in _parts(content, digest):
        data = reply_to_dict(reply) | {"part": part}
        if about:
            data[ABOUT] = about
        payload.append(data)
    if recipe is not None:
        payload[0][RECIPE] = recipe | {"items": list(digest.items)}
    return payload


@dataclass(frozen=True)
class Delivery:
    """A queued digest composed again at delivery: what to send, or why nothing."""

    digest: Digest
    payload: list[dict[str, Any]]
    skip: str | None = None


def at_delivery(
    db: Session,
    content: Content,
    manager: Person,
    queued: list[dict[str, Any]],
    *,
    now: datetime,
    queued_at: datetime | None = None,
) -> Delivery:
    """The digest queued as ``queued``, composed again from what is shared now (nothing is
    audited here: :func:`record_delivered` once it reaches the manager). The opening the
    assistant wrote when it was queued is kept only when every item it was written from is
    still shared with this manager. A digest that has nothing left to show is skipped, unless
    a "nothing new" note was wanted."""
    recipe: dict[str, Any] = dict(queued[0].get(RECIPE) or {}) if queued else {}
    assert manager.id is not None
    since = _moment(recipe.get("since")) or last_digest(db, manager.id, before=queued_at)
    min_group = int(recipe.get("min_group", 0)) or None
    digest = compose(
        db,
        content,
        manager,
        now=now,
        min_group=min_group or 10**9,  # a digest queued without a recipe: no team counts
        since=since or now - DEFAULT_WINDOW,
        audited=False,
    )
    opening = next((part for part in queued if part.get("part") == OPENING), None)
    if opening is not None and set(recipe.get("items", [None])) <= set(digest.items):
        digest.opening = str(opening.get("text") or "") or None
    if digest.empty and not recipe.get("note_if_empty", False):
        return Delivery(digest, [], skip="nothing shared any more")
    return Delivery(digest, as_payload(content, digest, recipe=recipe))


def _moment(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


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
    due: list[tuple[Person, date, datetime]] = []
    for manager in managers(db):
        assert manager.id is not None
        local_today = now.astimezone(ZoneInfo(manager.timezone)).date()
        monday = local_today - timedelta(days=(local_today.weekday() - weekday) % 7)
        policy = NudgePolicy(time=clock, country=manager.country)
        at = slot(_at_clock(manager, clock), monday, policy)
        if at <= now <= at + grace:
            due.append((manager, monday, at))
    queued = _existing_keys(db, [_key(manager, monday) for manager, monday, _ in due])
    previous = last_digests(db, [manager.id for manager, _, _ in due if manager.id is not None])
    wanted: list[tuple[Person, str, datetime]] = []
    for manager, monday, at in due:
        assert manager.id is not None
        key, cadence_of = _key(manager, monday), manager.digest_cadence or cadence
        if key not in queued and _in_rhythm(previous.get(manager.id), monday, cadence_of):
            wanted.append((manager, key, at))
    since = {m.id: previous.get(m.id) or now - DEFAULT_WINDOW for m, _, _ in wanted if m.id}
    digests = compose_many(
        db,
        content,
        [manager for manager, _, _ in wanted],
        now=now,
        min_group=min_group,
        since=since,
        assistant=assistant,
        audited=False,  # read when delivered: bot/delivery.py audits it then
    )
    found: list[OutboxMessage] = []
    for (manager, key, at), digest in zip(wanted, digests, strict=True):
        assert manager.id is not None
        recipe = {
            "since": since[manager.id].isoformat(),
            "min_group": min_group,
            "note_if_empty": nothing_new_note,
        }
        payload = as_payload(content, digest, recipe=recipe)
        skipped = digest.empty and not nothing_new_note
        found.append(OutboxMessage(key, manager.id, DIGEST_KIND, at, payload, skipped=skipped))
    return found


def last_digests(db: Session, manager_ids: Sequence[int]) -> dict[int, datetime]:
    """:func:`last_digest` for many managers at once (those with none are left out)."""
    moment = func.coalesce(Outbound.sent_at, Outbound.created_at)
    found: dict[int, datetime] = {}
    for start in range(0, len(manager_ids), 5000):  # under the databases' parameter limits
        query = (
            select(Outbound.person_id, func.max(moment))
            .where(col(Outbound.person_id).in_(manager_ids[start : start + 5000]))
            .where(Outbound.kind == DIGEST_KIND)
            .group_by(col(Outbound.person_id))
        )
        found |= {person_id: last for person_id, last in db.exec(query) if last is not None}
    return found


def _existing_keys(db: Session, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 5000):
        query = select(Outbound.idempotency_key).where(
            col(Outbound.idempotency_key).in_(keys[start : start + 5000])
        )
        found |= set(db.exec(query))
    return found


def _key(manager: Person, week: date) -> str:
    return f"{DIGEST_KIND}:{manager.id}:{week.isoformat()}"


def _in_rhythm(previous: datetime | None, week: date, cadence: str) -> bool:
    """Weekly: every week. Monthly: the first week of the month. Biweekly: two weeks or more
    after the ``previous`` digest (counting skipped, empty weeks). Off: never."""
    if cadence == OFF:
        return False
    if cadence == "monthly":
        return week.day <= 7
    if cadence == "biweekly":
        return previous is None or (week - previous.date()).days >= 13
    return True


def _at_clock(manager: Person, clock: str) -> Person:
    """The manager as the slot sees them: digests come at the digest time, not their nudge
    time, and are not held back by a nudge pause (see the module's docstring)."""
    return manager.model_copy(update={"nudge_time": clock, "nudge_paused_until": None})

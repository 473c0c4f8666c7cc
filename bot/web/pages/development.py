"""What "My development" shows one person about themselves: a view of their own data, built
from the same storage functions as the chat (their items, the learning record
``storage.learning``, their next growth conversation ``storage.conversations`` and its agenda in
the chat's own words, ``storage.privacy`` for what their manager sees and who has seen their
data), in their language.

Only the owner's own rows are read here; nothing about anyone else except their manager's
name and language (for "what my manager sees"), which the chat shows too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from markupsafe import Markup
from sqlmodel import Session, col, select

from bot.web.charts import ChartPoint, Scale, line_chart
from bot.web.templating import Words
from dialogs.engine.assistant import SUMMARY_DIALOG
from dialogs.engine.content import LANGUAGES, Content
from dialogs.flows.experiment import YEARLY_GOAL
from dialogs.flows.growth import agenda_text
from dialogs.flows.preferences import NUDGE_FREQUENCIES
from dialogs.flows.privacy import SEEN_WHAT
from dialogs.nudges.manager_view import preview
from storage import conversations as talks
from storage.campaigns import rows_of
from storage.items import done_in_year, experiments, experiments_of_year, profile_entries
from storage.learning import clean_link, learning_record
from storage.models import (
    Answer,
    Campaign,
    CheckIn,
    Experiment,
    LearningEntry,
    Person,
    PlanItem,
    RsvpState,
    Visibility,
    table_name,
)
from storage.privacy import Reading, readings, shared_with_manager, who_sees
from storage.refusals import REFUSED_READ

OWN_ACTIONS = frozenset({"download", "web_sign_in"})
"""What a person's own uses of their links are audited as (``storage.links``)."""
CHART_CHECK_INS = 26
"""The energy chart shows the latest this many check-ins (half a year of weekly ones)."""


@dataclass(frozen=True)
class Item:
    """One of the person's items, as a row with its visibility switch."""

    kind: str
    """Its table (``answer``, ``experiment``, …): with ``id``, what the switch posts."""
    id: int
    text: str
    detail: str
    """A second line: the experiment's state, the plan item's kind, the question answered."""
    when: str
    shared: bool
    lesson: str | None = None
    """An experiment's lesson (what it taught, what to keep doing)."""
    lesson_private: bool = False
    link: str | None = None
    """A learning entry's address (a course page, a certificate)."""
    took: str | None = None
    """What the person took from a learning entry."""

    @property
    def anchor(self) -> str:
        return f"{self.kind}-{self.id}"


@dataclass(frozen=True)
class Place:
    """A campaign the person was invited to, with their workshop place if they took one."""

    campaign: str
    workshop: str | None
    starts: str | None
    state: str
    """``going``, ``waitlist`` or ``invited`` (no place taken)."""


@dataclass(frozen=True)
class GrowthView:
    """The person's next growth conversation, their prep and what they brought."""

    when: str
    manager: str
    state: str
    """``not_prepared``, ``prepared`` (kept to themselves) or ``brought``."""
    agenda: str | None
    """Their prep as the manager reads it once brought (None: nothing prepared)."""


@dataclass(frozen=True)
class SeenLine:
    who: str
    when: str
    what: str | None


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    selected: bool


@dataclass(frozen=True)
class SettingsView:
    languages: list[Choice]
    timezone: str
    rhythms: list[Choice]
    paused_until: str | None
    """The local date nudges are paused until, as the person reads it (None: not paused)."""
    pause_min: str
    """The first day a pause can last until (tomorrow, ISO), for the date field."""


@dataclass(frozen=True)
class DevelopmentPage:
    person: Person
    progress: str
    profile: list[Item]
    plan: list[Item]
    experiments: list[Item]
    reflections: list[Item]
    check_ins: list[Item]
    learning: list[Item]
    growth: GrowthView | None
    chart: Markup
    chart_points: list[ChartPoint]
    places: list[Place]
    manager: Person | None
    manager_view: str | None
    seen: list[SeenLine]
    settings: SettingsView
    shared: int = 0
    total: int = 0


def _local(instant: datetime, zone: str) -> date:
    return instant.astimezone(ZoneInfo(zone)).date()


def build(db: Session, content: Content, person: Person, *, now: datetime) -> DevelopmentPage:
    """The page for ``person`` at ``now`` (their own local year for "n/3"), in their language
    and time zone."""
    assert person.id is not None
    lang, zone = person.language, person.timezone
    today = _local(now, zone)
    words = Words(content, lang, zone)
    t = words.t

    def day(instant: datetime | date | None) -> str:
        return words.date(instant) if instant is not None else t("common.no_date")

    def short(instant: datetime) -> str:
        return format_date(_local(instant, zone), format="medium", locale=lang)

    profile = [
        Item(
            table_name(type(e)),
            _id(e.id),
            e.text,
            t(f"profile.headings.{e.kind}"),
            day(e.created_at),
            e.visibility == Visibility.MANAGER,
        )
        for e in profile_entries(db, person.id)
    ]
    plan = [
        Item(
            "plan_item",
            _id(p.id),
            p.title,
            t(f"plan.kinds.{p.kind}")
            + (f" · {t('web_pages.plan_done')}" if p.status == "done" else "")
            + (f" · {t('web_pages.target', date=day(p.target_date))}" if p.target_date else ""),
            day(p.created_at),
            p.visibility == Visibility.MANAGER,
        )
        for p in _own(db, PlanItem, person.id)
    ]
    own_experiments = experiments(db, person.id)  # read once: this year's, and the n of n/3
    this_year = experiments_of_year(db, person, today.year, read=own_experiments)
    tried = [_experiment(e, t, day) for e in this_year]
    reflections = [_answer(a, content, lang, t, day) for a in _own(db, Answer, person.id)]
    reflections.reverse()  # newest first
    check_in_rows = _own(db, CheckIn, person.id)
    check_ins = [
        Item(
            "check_in",
            _id(c.id),
            t("web_pages.energy", energy=c.energy),
            c.next_step,
            day(c.created_at),
            c.visibility == Visibility.MANAGER,
        )
        for c in reversed(check_in_rows)
    ]
    points = [ChartPoint(short(c.created_at), c.energy) for c in check_in_rows[-CHART_CHECK_INS:]]
    chart = line_chart(
        points,
        scale=Scale(1, 5, t("web_pages.chart_low"), t("web_pages.chart_high")),
        title=t("web_pages.chart_title"),
        description=_chart_description(t, points),
        chart_id="energy-chart",
    )
    learning = [_learning(e, t, day) for e in learning_record(db, person.id)]
    manager = who_sees(db, person)
    manager_view = None
    if manager is not None:
        items = shared_with_manager(db, person)
        manager_view = preview(content, lang, person, items, manager=manager)
    every = [*profile, *learning, *plan, *tried, *reflections, *check_ins]
    return DevelopmentPage(
        person=person,
        progress=t(
            "experiment.progress",
            done=len(done_in_year(db, person, today.year, read=own_experiments)),
            goal=YEARLY_GOAL,
            year=today.year,
        ),
        profile=profile,
        plan=plan,
        experiments=tried,
        reflections=reflections,
        check_ins=check_ins,
        learning=learning,
        growth=_growth(db, content, person, manager, today, words),
        chart=chart,
        chart_points=points,
        places=_places(db, person, words),
        manager=manager,
        manager_view=manager_view,
        seen=[_seen(r, person, t, words) for r in readings(db, person.id)],
        settings=_settings(person, content, today, day),
        shared=sum(item.shared for item in every),
        total=len(every),
    )


def _id(value: int | None) -> int:
    assert value is not None
    return value


def _own(db: Session, item_type: Any, person_id: int) -> list[Any]:
    """All of one kind of the person's items, oldest first."""
    return list(
        db.exec(
            select(item_type)
            .where(item_type.person_id == person_id)
            .order_by(col(item_type.created_at), col(item_type.id))
        )
    )


def _experiment(e: Experiment, t: Any, day: Any) -> Item:
    lesson = " / ".join(part for part in (e.learned, e.keep_doing) if part) or None
    when = day(e.planned_date) if e.planned_date else day(e.created_at)
    return Item(
        "experiment",
        _id(e.id),
        e.title,
        t(f"experiment.states.{e.status}"),
        when,
        e.visibility == Visibility.MANAGER,
        lesson=lesson,
        lesson_private=e.lesson_private,
    )


def _answer(a: Answer, content: Content, lang: str, t: Any, day: Any) -> Item:
    if a.dialog_id == SUMMARY_DIALOG:
        question = t("privacy.kinds.summary")
    else:
        try:
            question = content.question(a.question_id).text[lang]
        except StopIteration:
            question = t("privacy.kinds.answer")
    return Item(
        "answer", _id(a.id), a.text, question, day(a.created_at), a.visibility == Visibility.MANAGER
    )


def _learning(e: LearningEntry, t: Any, day: Any) -> Item:
    return Item(
        "learning_entry",
        _id(e.id),
        e.title,
        t(f"learning.kinds.{e.kind}"),
        day(e.learned_on or e.created_at),
        e.visibility == Visibility.MANAGER,
        link=clean_link(e.link) if e.link else None,
        took=e.takeaway or None,
    )


def _growth(
    db: Session,
    content: Content,
    person: Person,
    manager: Person | None,
    today: date,
    words: Words,
) -> GrowthView | None:
    """The next growth conversation with their manager (today or later), with the prep as
    the chat's preview shows it; None without a manager or a date."""
    assert person.id is not None
    found = talks.upcoming(db, person.id, today=today)
    if manager is None or found is None:
        return None
    state = "prepared" if found.prepared_at else "not_prepared"
    if found.agenda_shared_at:
        state = "brought"
    agenda = talks.agenda_of(db, found) if found.prepared_at else None
    return GrowthView(
        when=words.date(found.planned_for),
        manager=manager.name,
        state=state,
        agenda=agenda_text(content, agenda, person, person.language) if agenda else None,
    )


def _chart_description(t: Any, points: list[ChartPoint]) -> str:
    if not points:
        return str(t("web_pages.chart_empty"))
    values = [p.value for p in points]
    return str(
        t(
            "web_pages.chart_description",
            count=len(points),
            first=points[0].label,
            last=points[-1].label,
            latest=values[-1],
            average=f"{sum(values) / len(values):.1f}",
        )
    )


def _places(db: Session, person: Person, words: Words) -> list[Place]:
    """The campaigns the person was invited to, and the workshop places they took (a place
    given up is not shown)."""
    assert person.id is not None
    rows = rows_of(db, person.id)
    lang = person.language
    found: list[Place] = []
    campaigns: dict[int, Campaign | None] = {}

    def campaign(campaign_id: int) -> Campaign | None:
        if campaign_id not in campaigns:
            campaigns[campaign_id] = db.get(Campaign, campaign_id)
        return campaigns[campaign_id]

    with_place: set[int] = set()
    for rsvp in rows["campaign_rsvp"]:
        if rsvp.state == RsvpState.CANCELLED:
            continue
        found_campaign = campaign(rsvp.campaign_id)
        if found_campaign is None:
            continue
        with_place.add(rsvp.campaign_id)
        workshop: dict[str, Any] = next(
            (w for w in found_campaign.spec.get("workshops", []) if w.get("id") == rsvp.workshop),
            {},
        )
        found.append(
            Place(
                campaign=found_campaign.name,
                workshop=_in(workshop.get("title"), lang) or rsvp.workshop,
                starts=_starts(workshop.get("starts"), words),
                state=str(rsvp.state),
            )
        )
    for recipient in rows["campaign_recipient"]:
        found_campaign = campaign(recipient.campaign_id)
        if found_campaign is None or recipient.campaign_id in with_place:
            continue
        found.append(Place(found_campaign.name, None, None, "invited"))
    return found


def _in(text: Any, lang: str) -> str | None:
    """A campaign text in the person's language (the campaign's other language otherwise)."""
    if isinstance(text, dict):
        return str(text.get(lang) or next(iter(text.values()), "")) or None
    return str(text) if text else None


def _starts(value: Any, words: Words) -> str | None:
    """A workshop's start (written with its UTC offset) in the reader's zone."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return words.datetime(moment) if moment.tzinfo is not None else None


def _seen(reading: Reading, person: Person, t: Any, words: Words) -> SeenLine:
    when = words.datetime(reading.at)
    if reading.reader is not None and reading.reader.id == person.id:
        own = t(f"web_pages.seen_own.{reading.what}") if reading.what in OWN_ACTIONS else None
        return SeenLine(t("web_pages.seen_you"), when, own)
    if reading.reader is not None:
        who = reading.reader.name
    elif reading.operator:
        who = t("privacy.seen_administrator", name=reading.operator)
    else:
        who = t("privacy.seen_someone_gone")
    if reading.what == REFUSED_READ:
        return SeenLine(who, when, t("web_pages.seen_refused"))
    what = t(f"privacy.seen_what.{reading.what}") if reading.what in SEEN_WHAT else None
    return SeenLine(who, when, what)


def _settings(person: Person, content: Content, today: date, day: Any) -> SettingsView:
    lang = person.language
    paused = person.nudge_paused_until
    return SettingsView(
        languages=[
            Choice(code, content.text(lang, f"preferences.language_names.{code}"), code == lang)
            for code in LANGUAGES
        ],
        timezone=person.timezone,
        rhythms=[
            Choice(
                value,
                content.text(lang, f"preferences.frequencies.{value}"),
                value == person.nudge_frequency,
            )
            for value in NUDGE_FREQUENCIES
        ],
        paused_until=day(paused) if paused is not None and paused >= today else None,
        pause_min=date.fromordinal(today.toordinal() + 1).isoformat(),
    )

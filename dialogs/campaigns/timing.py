"""When a campaign message about a workshop may reach someone, wherever they are.

Steps go out at each recipient's own local time, but a workshop happens at one instant: 11:00
in New York is 17:00 in Amsterdam, after a 14:00 workshop there. So every message that invites
to a workshop (its sign-up lines, or the workshop it is timed by) has a *deadline*: the start of
the last of its workshops still taking place. A message that would reach someone at or after
its deadline is skipped for them (counted, with :data:`TOO_LATE`), or, when its step says
``too_late: earlier``, goes at the same local time on an earlier working day of theirs. The
message carries the deadline into the outbox (``not_after``), so one held up on its way is
skipped at sending time too (``bot/delivery.py``), and resuming or editing a campaign checks
it again (``launch.py``).

A step timed by a workshop (``workshop: energy, before: 1d``) goes at one instant for everyone
(counted in the workshop's own zone), moved earlier for whoever that instant is night-time for
(:func:`in_their_day`). Attendee reminders (``dialogs/campaigns/care.py``) use the same rule.

:func:`late_lines` and :func:`missed_lines` say beforehand (``validate``, ``preview``,
``launch --dry-run``) who would get a message after its workshop starts, per time zone, and,
for a campaign that follows start dates, which steps recent starters joined too late for.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date
from sqlmodel import Session

from dialogs.campaigns.messages import KIND
from dialogs.campaigns.spec import EARLIER, CampaignSpec, Step, Workshop, from_stored
from dialogs.engine.calendar import NudgePolicy, is_working_day, local_instant
from dialogs.engine.content import Content
from dialogs.nudges.rules import LATEST_LOCAL_HOUR
from storage.models import Campaign, Person
from storage.outbox import OutboxMessage

DAY_STARTS = 8
"""Local hour from which a message about a workshop may arrive."""
LAST_CALL = "19:00"
"""Where a message that would arrive at night goes instead: the evening before."""
LEAD = timedelta(hours=1)
"""A message moved earlier arrives at least this long before its workshop starts."""
EARLIER_DAYS = 7
"""How many days a message may move earlier (working days are looked for within them)."""
TOO_LATE = "after its workshop started"
"""The skip note of an invitation that would have arrived after its workshop(s) started."""
WORKSHOP_CANCELLED = "workshop cancelled"


def in_their_day(at: datetime, zone: str) -> datetime:
    """``at``, or, when it is night-time where the person is (before 08:00 or from 20:00),
    19:00 the evening before: a reminder never wakes anyone, and never comes late."""
    local = at.astimezone(ZoneInfo(zone))
    if DAY_STARTS <= local.hour < LATEST_LOCAL_HOUR:
        return at
    day = local.date() if local.hour >= LATEST_LOCAL_HOUR else local.date() - timedelta(days=1)
    return local_instant(day, LAST_CALL, zone)


def anchored(spec: CampaignSpec, step: Step, zone: str) -> datetime | None:
    """A workshop-timed step's moment for someone in ``zone`` (None for a day-based step)."""
    if step.workshop is None or step.before is None:
        return None
    workshop = spec.workshop(step.workshop)
    assert workshop is not None
    return in_their_day(workshop.before(step.before), zone)


def workshops_of(spec: CampaignSpec, step: Step) -> list[Workshop]:
    """The workshops the step's message is about, cancelled ones left out."""
    found = [spec.workshop(w) for w in step.invites_to]
    return [w for w in found if w is not None and not w.cancelled]


def deadline(spec: CampaignSpec, step: Step) -> datetime | None:
    """When the step's message stops being of use: the start of the last of its workshops;
    None when it invites to none (an ordinary step, never late)."""
    workshops = workshops_of(spec, step)
    return max(w.starts for w in workshops) if workshops else None


@dataclass(frozen=True)
class Timing:
    """Where one step's message stands for one person."""

    at: datetime
    """When it goes (moved earlier, when it was)."""
    planned: datetime
    skip: str | None = None
    """:data:`TOO_LATE` or :data:`WORKSHOP_CANCELLED`: it does not go."""

    @property
    def moved(self) -> bool:
        return self.skip is None and self.at != self.planned


def in_time(
    spec: CampaignSpec,
    step: Step,
    at: datetime,
    *,
    now: datetime,
    zone: str,
    country: str,
    workshops: list[Workshop] | None = None,
) -> Timing:
    """``at`` checked against the step's deadline: kept, moved earlier (``too_late:
    earlier``) or skipped. ``now`` counts: a message queued late goes now, not at ``at``.
    ``workshops``: :func:`workshops_of` the step, when the caller has them (a loop over
    thousands of people)."""
    if workshops is None:
        workshops = workshops_of(spec, step)
    if step.invites_to and not workshops:
        return Timing(at, at, WORKSHOP_CANCELLED)
    due = max(w.starts for w in workshops) if workshops else None
    if due is None or max(at, now) < due:
        return Timing(at, at)
    if step.too_late == EARLIER:
        earlier = _earlier(at, due, now=now, zone=zone, country=country)
        if earlier is not None:
            return Timing(earlier, at)
    return Timing(at, at, TOO_LATE)


def _earlier(
    at: datetime, due: datetime, *, now: datetime, zone: str, country: str
) -> datetime | None:
    """The same local time on the latest earlier working day that is at least :data:`LEAD`
    before ``due``, in the person's day; or now, when that moment has passed but there is
    still time. None when nothing fits."""
    tz = ZoneInfo(zone)
    local = at.astimezone(tz)
    clock = f"{local:%H:%M}"
    latest = due - LEAD
    for back in range(EARLIER_DAYS + 1):
        day = local.date() - timedelta(days=back)
        if back and not is_working_day(day, country):
            continue
        moment = in_their_day(local_instant(day, clock, zone), zone)
        if moment > latest:
            continue
        if moment >= now:
            return moment
        here = now.astimezone(tz)
        if now <= latest and DAY_STARTS <= here.hour < LATEST_LOCAL_HOUR:
            return now
        return None
    return None


def keep_their_moment(
    db: Session, messages: Iterable[OutboxMessage]
) -> tuple[list[OutboxMessage], list[OutboxMessage]]:
    """(invitations to a workshop, the rest): calm (``dialogs/nudges/calm.py``) may move a
    campaign step to the other half of its day — 13:00 in London is 14:00 in Amsterdam, when
    the workshop starts — so an invitation keeps the moment checked against its deadline, and
    only the rest go through calm."""
    steps: dict[int, set[str]] = {}
    fixed: list[OutboxMessage] = []
    rest: list[OutboxMessage] = []
    for message in messages:
        cid = message.campaign_id
        if cid is not None and cid not in steps:
            campaign = db.get(Campaign, cid)
            spec = from_stored(campaign.spec) if campaign is not None else None
            steps[cid] = {s.id for s in spec.steps if s.invites_to} if spec else set()
        bound = cid is not None and message.kind == KIND and message.campaign_step in steps[cid]
        (fixed if bound else rest).append(message)
    return fixed, rest


# -- said beforehand ---------------------------------------------------------------------------


def _when(at: datetime, zone: str, lang: str) -> str:
    """A moment as the reader of the check says it, in the zone it is about: "Mon 7 Dec
    11:00" / "ma 7 dec 11:00"."""
    local = at.astimezone(ZoneInfo(zone))
    day = format_date(local, "EEE d MMM", locale=lang).replace(".", "")
    return f"{day} {local:%H:%M}"


def late_lines(
    spec: CampaignSpec,
    people: Iterable[Person],
    *,
    policy: NudgePolicy,
    now: datetime,
    content: Content,
    lang: str,
    names: int = 5,
) -> list[str]:
    """Per time zone, the messages about a workshop that would reach people after it starts
    (skipped for them) or that go earlier than planned; empty when all is in time. In ``lang``:
    the campaign's author reads them (in chat, on the web, or at the command line)."""
    from dialogs.campaigns.planner import planned_at  # the planner imports this module

    groups: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    examples: dict[tuple[str, str, str], tuple[datetime, datetime]] = {}
    for step in spec.steps:
        if not step.invites_to:
            continue
        for person in people:
            at = planned_at(spec, step, person, policy)
            if at is None:
                continue
            country = person.country or policy.country
            timing = in_time(spec, step, at, now=now, zone=person.timezone, country=country)
            if timing.skip is None and not timing.moved:
                continue
            outcome = "moved" if timing.moved else (timing.skip or "")
            key = (person.timezone, step.id, outcome)
            groups[key].append(person.email)
            examples.setdefault(key, (timing.planned, timing.at))

    def t(key: str, **values: object) -> str:
        return content.text(lang, f"campaign_care.timing.{key}", **values)

    lines: list[str] = []
    for (zone, step_id, outcome), emails in sorted(groups.items()):
        found = spec.step(step_id)
        assert found is not None
        planned, moved_to = examples[(zone, step_id, outcome)]
        who = ", ".join(emails[:names])
        if len(emails) > names:
            who = t("more", names=who, count=len(emails) - names)
        starts = ", ".join(
            t("starts", workshop=w.id, when=_when(w.starts, zone, lang))
            for w in workshops_of(spec, found)
        ) or t("no_workshop")
        if outcome == "moved":
            what = t("moved", when=_when(moved_to, zone, lang))
        elif outcome == TOO_LATE:
            what = t("too_late")
        else:
            what = t("cancelled")
        lines.append(
            t(
                "late_line",
                zone=zone,
                people=content.number(lang, len(emails)),
                step=step_id,
                planned=_when(planned, zone, lang),
                starts=starts,
                what=what,
                who=who,
            )
        )
    return lines


def missed_lines(
    spec: CampaignSpec,
    people: Iterable[Person],
    *,
    policy: NudgePolicy,
    now: datetime,
    content: Content,
    lang: str,
) -> list[str]:
    """For a campaign that follows start dates: the steps whose moment had long passed for
    people who started before launching (they do not get those), and how many people."""
    if spec.start is not None:
        return []
    from dialogs.campaigns.planner import planned_at

    missed: dict[str, int] = defaultdict(int)
    for person in people:
        for step in spec.steps:
            at = planned_at(spec, step, person, policy)
            if at is not None and now - at > policy.grace:
                missed[step.id] += 1
    return [
        content.text(
            lang,
            "campaign_care.timing.missed_line",
            count=missed[step.id],
            step=step.id,
            day=step.day,
        )
        for step in spec.steps
        if missed.get(step.id)
    ]

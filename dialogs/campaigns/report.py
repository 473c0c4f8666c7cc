"""What HR sees of a campaign: delivery and response figures (counts of people under the
minimum group size suppressed) and, for the campaign's owner only, the workshop sign-ups by
name. One module for the CLI, the chat and the HTML report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from dialogs.campaigns.spec import CampaignSpec, from_stored
from dialogs.engine.content import DEFAULT_LANGUAGE, LANGUAGES, Content
from storage import campaign_figures
from storage.campaign_figures import Figures
from storage.models import Campaign, CampaignState, Person, RsvpState
from storage.privacy import Reader
from storage.workshop_places import Attendee, sign_up_lists


@dataclass(frozen=True)
class CampaignReport:
    campaign: Campaign
    spec: CampaignSpec
    figures: Figures
    finished: bool
    owner_view: bool = False
    """The campaign's owner is reading: sign-up counts exact (they see the names anyway)."""
    lang: str = DEFAULT_LANGUAGE
    """The language the report is written in: its author's (the campaign owner's), unless the
    reader asked for another."""

    @property
    def state(self) -> str:
        if self.campaign.state == CampaignState.RUNNING and self.finished:
            return "finished"
        return str(self.campaign.state)

    def going(self, workshop: str) -> int:
        counts = self.figures.rsvps.get(workshop)
        return counts[RsvpState.GOING] if counts is not None else 0

    def shown(self, people: int) -> str:
        """A sign-up count as this reader may see it: exact for the owner, else ``<K``-safe."""
        return str(people) if self.owner_view else self.figures.cell(people)

    def waiting(self, workshop: str) -> int:
        counts = self.figures.rsvps.get(workshop)
        return counts[RsvpState.WAITLIST] if counts is not None else 0


def build(
    db: Session,
    campaign: Campaign,
    *,
    min_group: int,
    now: datetime,
    reader: Person | None = None,
    lang: str | None = None,
) -> CampaignReport:
    """``lang``: the report's language (``en``/``nl``); by default its author's — the campaign
    owner's language, else the campaign's default language."""
    spec = from_stored(campaign.spec)
    figures = campaign_figures.figures(
        db, campaign, step_ids=[s.id for s in spec.steps], min_group=min_group
    )
    last = (
        spec.start + timedelta(days=spec.last_day + 16) if spec.start is not None else None
    )  # the last step, moved past holidays, and its grace period
    finished = last is not None and now.date() > last and figures.unsent == 0
    owner_view = reader is not None and reader.id is not None and reader.id == campaign.owner_id
    if lang is None:
        owner = db.get(Person, campaign.owner_id) if campaign.owner_id is not None else None
        lang = owner.language if owner is not None else spec.default_language
    if lang not in LANGUAGES:
        lang = spec.default_language if spec.default_language in LANGUAGES else DEFAULT_LANGUAGE
    return CampaignReport(campaign, spec, figures, finished, owner_view, lang)


def status_text(content: Content, lang: str, report: CampaignReport) -> str:
    """The chat's status: the figures in a few lines."""
    f = report.figures
    totals = f.total_cells()  # skipped messages are people's choices: protected
    lines = [
        content.text(
            lang,
            "campaigns.hr.status",
            name=report.spec.text(report.spec.name, lang),
            state=_state(content, lang, report.state),
            targeted=f.targeted,
            sent=totals.shown(1),
            waiting=totals.shown(0),
            failed=totals.shown(2),
            skipped=totals.shown(3),
            responded=f.cell(f.responded),
            experiments=f.cell(f.experiments),
        )
    ]
    for workshop in report.spec.workshops:
        lines.append(
            content.text(
                lang,
                "campaigns.hr.workshop",
                workshop=report.spec.text(workshop.title, lang),
                going=report.shown(report.going(workshop.id)),
                waiting=report.shown(report.waiting(workshop.id)),
            )
        )
    lines.append(content.text(lang, "campaigns.hr.small_groups", k=f.k))
    return "\n".join(lines)


def _state(content: Content, lang: str, state: str) -> str:
    if state == "finished":
        return content.text(lang, "campaigns.hr.states.running") + " ✓"
    return content.text(lang, f"campaigns.hr.states.{state}")


def sign_ups(
    db: Session,
    campaign: Campaign,
    reader: Person,
    *,
    now: datetime,
    operator: str | None = None,
) -> dict[str, list[Attendee]] | None:
    """Who signed up for which workshop, by name: only for the campaign's owner (None for
    anyone else); every look is audited — as the owner's, or, with ``operator``, as that
    administrator's (reading for the owner at the command line)."""
    assert campaign.id is not None
    if reader.id is None or reader.id != campaign.owner_id:
        return None
    who = Reader.administrator(operator) if operator is not None else Reader.of(reader)
    return sign_up_lists(db, campaign.id, reader=who, now=now)


def sign_ups_text(
    content: Content, lang: str, spec: CampaignSpec, lists: dict[str, list[Attendee]]
) -> str:
    lines: list[str] = []
    for workshop in spec.workshops:
        people = lists.get(workshop.id, [])
        going = [a for a in people if a.state == RsvpState.GOING]
        waiting = [a for a in people if a.state == RsvpState.WAITLIST]
        lines.append(
            content.text(
                lang,
                "campaigns.hr.rsvp_heading",
                workshop=spec.text(workshop.title, lang),
                going=len(going),
                waiting=len(waiting),
            )
        )
        lines += [f"  {n}. {a.name}" for n, a in enumerate(going, start=1)]
        lines += [f"  ⏳ {a.name}" for a in waiting]
    return "\n".join(lines) or content.text(lang, "campaigns.hr.rsvp_none")

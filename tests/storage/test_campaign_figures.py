"""A campaign's figures, counted in the database: messages per step and state (several steps,
every state, reasons whose first lines match), people reached and responding (each person once,
however many buttons they pressed, only people counted in aggregates), experiments and
sign-ups — and nothing of another campaign. The ``<K`` cells follow from them."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.campaign_figures import Figures, figures
from storage.models import (
    Campaign,
    CampaignRecipient,
    CampaignResponse,
    CampaignRsvp,
    Experiment,
    Outbound,
    OutboxState,
    Person,
    RsvpState,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STEPS = ["kickoff", "monday", "tuesday"]
S = OutboxState


def _world(engine: Engine) -> int:
    """20 people counted in aggregates and one who is not (``q``), all targeted; a second
    campaign to the same people whose rows must not count. Returns the first campaign's id."""
    with Session(engine) as db:
        p = [Person(email=f"p{n}@example.com", name=f"P{n}") for n in range(20)]
        q = Person(email="q@example.com", name="Q", in_aggregates=False)
        mine = Campaign(slug="mine", name="Mine", spec_hash="a", launched_at=NOW)
        other = Campaign(slug="other", name="Other", spec_hash="b", launched_at=NOW)
        db.add_all([*p, q, mine, other])
        db.flush()
        ids = [x.id or 0 for x in p]
        assert mine.id and other.id and q.id and all(ids)
        db.add_all(CampaignRecipient(campaign_id=mine.id, person_id=x) for x in [*ids, q.id])
        db.add_all(CampaignRecipient(campaign_id=other.id, person_id=x) for x in ids)
        messages: list[tuple[int | None, str | None, int, S, str | None]] = [
            *((mine.id, "kickoff", ids[n], S.SENT, None) for n in range(15)),
            (mine.id, "kickoff", q.id, S.SENT, None),
            (mine.id, "kickoff", ids[15], S.DEAD, "teams: 403 blocked\ntrace one"),
            (mine.id, "kickoff", ids[16], S.FAILED, "slack: timeout"),
            (mine.id, "kickoff", ids[17], S.SKIPPED, "paused"),
            (mine.id, "kickoff", ids[18], S.SKIPPED, "already done"),
            (mine.id, "kickoff", ids[19], S.PENDING, None),
            *((mine.id, "monday", ids[n], S.PENDING, None) for n in range(5)),
            (mine.id, "monday", ids[5], S.SENDING, None),
            (mine.id, "monday", ids[6], S.HELD, None),
            (mine.id, "monday", ids[7], S.HELD, None),
            (mine.id, "monday", ids[8], S.SKIPPED, "opted out of campaigns"),
            (mine.id, "monday", ids[9], S.DEAD, "teams: 403 blocked\ntrace two"),
            *((mine.id, "monday", ids[n], S.SENT, "slack: timeout") for n in (10, 11, 12)),
            (mine.id, "reminder-energy", ids[0], S.SENT, None),
            (mine.id, "reminder-energy", ids[1], S.SENT, None),
            (mine.id, None, ids[13], S.SENT, None),
            (other.id, "kickoff", ids[0], S.SENT, None),
            (other.id, "kickoff", ids[1], S.DEAD, "elsewhere"),
            (other.id, "kickoff", ids[2], S.SKIPPED, "paused"),
            (None, None, ids[3], S.DEAD, "a nudge"),
        ]
        db.add_all(
            Outbound(
                idempotency_key=f"m{n}",
                person_id=person,
                kind="campaign" if campaign else "nudge",
                campaign_id=campaign,
                campaign_step=step,
                state=state,
                last_error=error,
                not_before=NOW,
            )
            for n, (campaign, step, person, state, error) in enumerate(messages)
        )
        presses = [
            *((mine.id, "kickoff", ids[n], "interested") for n in range(6)),
            (mine.id, "kickoff", ids[0], "signed_up"),
            (mine.id, "kickoff", ids[6], "remind_tomorrow"),
            (mine.id, "kickoff", ids[7], "remind_tomorrow"),
            (mine.id, "kickoff", ids[8], "not_for_me"),
            (mine.id, "kickoff", q.id, "interested"),
            (mine.id, "monday", ids[0], "interested"),
            (mine.id, "monday", ids[9], "interested"),
            (mine.id, "monday", ids[10], "remind_tomorrow"),
            (mine.id, "old-step", ids[11], "interested"),
            (other.id, "kickoff", ids[12], "interested"),
        ]
        db.add_all(
            CampaignResponse(campaign_id=c, step=step, person_id=x, kind=kind, at=NOW)
            for c, step, x, kind in presses
        )
        started = [(mine.id, ids[0], True), (mine.id, ids[0], True), (mine.id, ids[1], True)]
        started += [(mine.id, ids[2], False), (other.id, ids[3], True)]
        db.add_all(
            Experiment(person_id=x, title="Try", campaign_id=c, in_aggregates=counted)
            for c, x, counted in started
        )
        rsvps = [
            (mine.id, ids[0], RsvpState.GOING),
            (mine.id, ids[1], RsvpState.GOING),
            (mine.id, ids[2], RsvpState.WAITLIST),
            (other.id, ids[3], RsvpState.GOING),
        ]
        db.add_all(
            CampaignRsvp(campaign_id=c, workshop="energy", person_id=x, state=state, at=NOW)
            for c, x, state in rsvps
        )
        db.commit()
        return mine.id


def _figures(engine: Engine, campaign_id: int) -> Figures:
    with Session(engine) as db:
        campaign = db.get(Campaign, campaign_id)
        assert campaign is not None
        return figures(db, campaign, step_ids=STEPS, min_group=5)


def test_messages_are_counted_per_step_and_state(engine: Engine) -> None:
    f = _figures(engine, _world(engine))
    by_state = {
        step: (s.queued, s.held, s.sent, s.failed, s.skipped, s.declined)
        for step, s in f.steps.items()
    }
    assert by_state == {
        "kickoff": (1, 0, 16, 2, 2, 1),
        "monday": (6, 2, 3, 1, 1, 1),
        "tuesday": (0, 0, 0, 0, 0, 0),
        "reminder-energy": (0, 0, 2, 0, 0, 0),
        "": (0, 0, 1, 0, 0, 0),
        "old-step": (0, 0, 0, 0, 0, 0),
    }
    assert (f.targeted, f.reached, f.sent, f.unsent) == (21, 16, 22, 10)
    assert f.failure_reasons == Counter({"teams: 403 blocked": 2, "slack: timeout": 1})
    assert list(f.skip_reasons.items()) == [
        ("paused", 1),
        ("already done", 1),
        ("opted out of campaigns", 1),
    ]  # as often as each other: in the order they happened


def test_responses_count_people_once_and_only_those_in_aggregates(engine: Engine) -> None:
    f = _figures(engine, _world(engine))
    kickoff, monday, old = f.steps["kickoff"], f.steps["monday"], f.steps["old-step"]
    assert kickoff.responses == Counter(
        {"interested": 6, "signed_up": 1, "remind_tomorrow": 2, "not_for_me": 1}
    )
    assert (kickoff.responded, kickoff.not_now, kickoff.no_thanks) == (6, 2, 1)
    assert monday.responses == Counter({"interested": 2, "remind_tomorrow": 1})
    assert (monday.responded, monday.not_now, monday.no_thanks) == (2, 1, 0)
    assert (old.responded, f.steps["tuesday"].responded) == (1, 0)
    assert f.responded == 8  # p0…p5, p9 and p11: p0 answered twice, q is not counted
    assert f.experiments == 2
    assert f.rsvps == {"energy": Counter({RsvpState.GOING: 2, RsvpState.WAITLIST: 1})}


def test_small_counts_and_the_cells_that_give_them_away_are_hidden(engine: Engine) -> None:
    f = _figures(engine, _world(engine))
    assert (f.k, f.cell(f.responded), f.cell(f.experiments)) == (5, "8", "<5")
    kickoff = f.step_cells("kickoff")  # 2 skipped, one of them by choice: protected together
    assert (kickoff.counts, kickoff.marker) == ((None, 0, 16, None, None), "×")
    assert f.step_cells("tuesday").counts == (0, 0, 0, 0, 0)
    assert f.total_cells().counts == (9, 22, None, None)  # 3 failed hide 3 skipped
    assert f.skip_reason_cells() == [
        ("paused", "×"),
        ("already done", "×"),
        ("opted out of campaigns", "×"),
    ]


def test_a_campaign_without_messages_has_empty_figures(engine: Engine) -> None:
    with Session(engine) as db:
        campaign = Campaign(slug="new", name="New", spec_hash="c", launched_at=NOW)
        db.add(campaign)
        db.commit()
        assert campaign.id is not None
        f = figures(db, campaign, step_ids=STEPS, min_group=5)
    assert (f.targeted, f.reached, f.responded, f.experiments, f.rsvps) == (0, 0, 0, 0, {})
    assert set(f.steps) == set(STEPS) and not f.failure_reasons and not f.skip_reasons

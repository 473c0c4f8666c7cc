"""Benchmark: launching the Growth Week campaign (campaigns/growth-week.yaml) to 10,000 people
on a SQLite file, then delivering its first step through the rate-limited Slack and Teams fakes
of bench/delivery.py (same limit, same 1% of 5xx, same rate, loss and duplicate counts).
Prints JSON.

``launch``: people in nl and en, in four time zones, half on Slack and half on Teams, 1% opted
out of campaigns; the owner from the file (role hr) is one of them. At 08:00 UTC on day 0 the
09:30 local kick-off is within the look-ahead for everyone, so launching queues it. Timed:
``plan_launch`` + ``launch`` + commit, i.e. from launch to every first-step message enqueued.

``delivery``: a fresh file with ``--deliver`` people (nobody opted out: delivery.py counts every
recipient as reachable), launched with a campaign of the file's first step only, then delivered
by ``bench.delivery.delivery`` with its seeding replaced by this launch.

    .venv/bin/python bench/campaign.py [--people 10000] [--deliver 10000] [--limit 100]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

import bench.delivery
from bench.report import at_least, at_most, emit, exactly
from bot.config import Settings
from bot.wiring import policy
from dialogs.campaigns.launch import LaunchPlan, launch, plan_launch
from dialogs.campaigns.spec import CampaignSpec, from_stored, load_file
from dialogs.engine.content import load_content
from storage.db import make_engine
from storage.migrate import upgrade
from storage.models import Campaign, ChannelAddress, Outbound, Person

FILE = Path(__file__).resolve().parents[1] / "campaigns" / "growth-week.yaml"
LAUNCH_AT = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
"""Day 0, 08:00 UTC: the 09:30 kick-off is due within 24 hours in every zone (Tokyo: just past)."""
DELIVER_AT = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
"""After the kick-off's moment in every zone (New York: 14:30 UTC)."""
ZONES = ("Europe/Amsterdam", "Europe/London", "America/New_York", "Asia/Tokyo")


def seed(engine: Engine, people: int, owner: str, connector_url: str, opt_out_every: int) -> None:
    """``people`` people: even numbers on Slack, odd ones on Teams (as bench/delivery.py counts
    them), with a Teams conversation reference each; number 0 is the campaign's owner."""
    base = {
        "role": "employee",
        "country": "NL",
        "department": "",
        "nudge_frequency": "biweekly",
        "default_visibility": "private",
        "in_aggregates": True,
        "welcomed_at": LAUNCH_AT,
        "created_at": LAUNCH_AT,
    }
    rows = [
        base
        | {
            "email": f"p{n}@bench.example",
            "name": f"Person {n}",
            "language": "nl" if n % 3 else "en",
            "timezone": ZONES[n // 2 % len(ZONES)],  # both platforms in every zone
            "slack_user_id": None if n % 2 else f"U{n}",
            "teams_aad_id": f"aad-{n}" if n % 2 else None,
            "campaigns_opt_out": bool(opt_out_every) and n % opt_out_every == opt_out_every - 1,
        }
        for n in range(people)
    ]
    rows[0] |= {"email": owner, "name": "Priya Shah", "role": "hr"}
    with engine.begin() as connection:
        connection.execute(insert(Person), rows)
        teams = connection.execute(
            select(Person.id, Person.teams_aad_id).where(col(Person.teams_aad_id).is_not(None))
        ).all()
        connection.execute(
            insert(ChannelAddress),
            [
                {
                    "person_id": person_id,
                    "channel": "teams",
                    "updated_at": LAUNCH_AT,
                    "address": {
                        "bot": {"id": "28:bot", "name": "Regie"},
                        "user": {"id": f"29:{aad}", "aadObjectId": aad},
                        "conversation": {"id": f"a:{aad}", "conversationType": "personal"},
                        "channelId": "msteams",
                        "serviceUrl": connector_url,
                    },
                }
                for person_id, aad in teams
            ],
        )


def timed_launch(engine: Engine, spec: CampaignSpec) -> tuple[LaunchPlan, float]:
    """Launch ``spec`` at ``LAUNCH_AT`` as its owner; the plan and the seconds it took."""
    content, rules = load_content(), policy(Settings(_env_file=None))  # type: ignore[call-arg]
    with Session(engine, expire_on_commit=False) as db:
        owner = db.exec(select(Person).where(Person.email == spec.owner)).one()
        started = time.perf_counter()
        plan = plan_launch(db, spec, now=LAUNCH_AT)
        launch(db, content, plan, owner=owner, now=LAUNCH_AT, policy=rules)
        db.commit()
        seconds = time.perf_counter() - started
    return plan, seconds


def step_rows(engine: Engine, spec: CampaignSpec, step_id: str) -> dict[str, int]:
    """Outbox rows of one step, per state."""
    with Session(engine) as db:
        campaign = db.exec(select(Campaign.id).where(Campaign.slug == spec.id)).one()
        states = db.exec(
            select(Outbound.state).where(
                Outbound.campaign_id == campaign, Outbound.campaign_step == step_id
            )
        ).all()
    return dict(Counter(states))


def launch_bench(people: int, folder: Path) -> dict[str, object]:
    spec = load_file(FILE)
    engine = make_engine(f"sqlite:///{folder / 'launch.db'}")
    upgrade(engine)
    seed(engine, people, spec.owner, "http://127.0.0.1:9/", opt_out_every=100)
    plan, seconds = timed_launch(engine, spec)
    first = spec.steps[0].id
    kickoff = step_rows(engine, spec, first)
    with Session(engine) as db:
        per_step = Counter(db.exec(select(Outbound.campaign_step)).all())
    return {
        "people": people,
        "audience": plan.audience,
        "opted_out": plan.opted_out,
        "recipients": len(plan.recipients),
        "launch_seconds": round(seconds, 3),
        "target_launch_seconds": 2.0,
        "first_step": first,
        "first_step_enqueued": sum(kickoff.values()),
        "first_step_expected": len(plan.recipients),
        "first_step_states": kickoff,
        "queued_at_launch": plan.queued,
        "queued_per_step": dict(per_step),
    }


def delivery_bench(people: int, limit: float, folder: Path) -> dict[str, object]:
    """``bench.delivery.delivery`` with its seeding (a check-in per person) replaced by
    launching the file's first step to ``people`` people, and its clock by ``DELIVER_AT``."""
    full = load_file(FILE)
    spec = from_stored(full.raw | {"steps": full.raw["steps"][:1]})
    launched: dict[str, object] = {}

    def seed_and_launch(engine: Engine, recipients: int, connector_url: str) -> None:
        seed(engine, recipients, spec.owner, connector_url, opt_out_every=0)
        plan, seconds = timed_launch(engine, spec)
        launched.update(step=spec.steps[0].id, launch_seconds=round(seconds, 3))
        launched.update(queued=plan.queued)

    with mock.patch.multiple(bench.delivery, setup=seed_and_launch, NOW=DELIVER_AT):
        try:
            result = bench.delivery.delivery(people, limit, folder)
        except Exception as error:  # a product failure is a result too: report it
            return launched | {"error": f"{type(error).__name__}: {str(error)[:300]}"}
    engine = make_engine(f"sqlite:///{folder / 'delivery.db'}")
    return launched | {"step_states": step_rows(engine, spec, spec.steps[0].id)} | result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=10_000, help="launched to")
    parser.add_argument("--deliver", type=int, default=10_000, help="first step delivered to")
    parser.add_argument("--limit", type=float, default=100.0, help="per platform, per second")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="regie-bench-"))
    launched = launch_bench(args.people, folder)
    delivered = delivery_bench(args.deliver, args.limit, folder)
    duplicates = delivered.get("duplicates") or {}
    assert isinstance(duplicates, dict)
    summary = {
        "launch_seconds": launched["launch_seconds"],
        "first_step_enqueued": launched["first_step_enqueued"],
        "achieved_rate_fraction": delivered.get("achieved_rate_fraction"),
        "lost": delivered.get("lost"),
        "duplicates": sum(duplicates.values()) if "error" not in delivered else None,
    }
    emit(
        "campaign.launch_sqlite",
        launched,
        [at_most("campaign launch to 10k on SQLite, s", launched["launch_seconds"], 2.0)],  # type: ignore[arg-type]
    )
    rates = delivered.get("achieved_rate_fraction") or {}
    assert isinstance(rates, dict)
    emit(
        "campaign.delivery",
        delivered | {"summary": summary},
        [
            at_least("campaign step, Slack fraction of the limit", rates.get("slack"), 0.95),
            at_least("campaign step, Teams fraction of the limit", rates.get("teams"), 0.95),
            exactly("campaign step duplicates", summary["duplicates"], 0),  # type: ignore[arg-type]
        ],
    )
    if "error" in delivered:
        sys.exit(1)


if __name__ == "__main__":
    main()

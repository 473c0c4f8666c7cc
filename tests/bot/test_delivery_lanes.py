"""A delivery pass claims per platform, each what its budget can send: a Slack backlog queued
first does not hold back Teams (against the Slack and Teams fakes); the lanes pick people the
way delivery picks their sender."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from bot.channels.slack.client import web_client
from bot.channels.slack.outbound import SlackSender
from bot.channels.teams.outbound import TeamsSender
from bot.claims import lanes
from bot.delivery import UNPACED_BATCH, DeliveryWorker
from bot.ratelimit import AdaptiveRate
from dialogs.engine.content import load_content
from dialogs.engine.replies import Offer, reply_to_dict
from storage.addresses import people_with_address
from storage.models import ChannelAddress, Outbound, Person
from storage.outbox import OutboxMessage, claim_due, enqueue_many
from tests.bot.conftest import TeamsWorld, slack_settings
from tests.bot.slack_fake import FakeSlack
from tests.bot.teams_harness import run as run_on_loop

NOW = datetime(2026, 12, 1, 8, 40, tzinfo=UTC)
NUDGE = [reply_to_dict(Offer("Time for a check-in?", (("checkin", "Check in now"),)))]


class VirtualTime:
    """The send budgets' clock: a wait moves it on, nothing really waits."""

    def __init__(self) -> None:
        self.t = 1_000.0

    def now(self) -> float:
        return self.t

    async def sleep(self, delay: float) -> None:
        until = self.t + max(0.0, delay)
        await asyncio.sleep(0)
        self.t = max(self.t, until)


class Granted(AdaptiveRate):
    """A budget that remembers when each slot it gave out starts."""

    granted: list[float]

    def reserve(self, conversation: str = "", *, within: float | None = None) -> float | None:
        at = super().reserve(conversation, within=within)
        if at is not None:
            self.__dict__.setdefault("granted", []).append(at)
        return at


def _teams_address(aad: str, service_url: str) -> dict[str, object]:
    return {
        "activityId": "a",
        "bot": {"id": "28:bot", "name": "Regie"},
        "user": {"id": f"29:{aad}", "name": "P", "aadObjectId": aad},
        "conversation": {"id": f"a:{aad}", "conversationType": "personal"},
        "channelId": "msteams",
        "serviceUrl": service_url,
    }


def _people(engine, slack: int, teams: int, service_url: str) -> tuple[list[int], list[int]]:  # type: ignore[no-untyped-def]
    """``slack`` people on Slack, then ``teams`` on Teams (with a conversation); every Slack
    check-in enqueued before every Teams one, all due at NOW."""
    with Session(engine) as db:
        db.add_all(
            Person(email=f"s{n}@example.com", name=f"S{n}", slack_user_id=f"U{n}", welcomed_at=NOW)
            for n in range(slack)
        )
        db.add_all(
            Person(email=f"t{n}@example.com", name=f"T{n}", teams_aad_id=f"aad-{n}")
            for n in range(teams)
        )
        db.commit()
    with Session(engine) as db:
        on_slack = list(db.exec(select(Person.id).where(col(Person.slack_user_id).is_not(None))))
        on_teams = db.exec(select(Person.id, Person.teams_aad_id).where(
            col(Person.teams_aad_id).is_not(None))).all()  # fmt: skip
        for person_id, aad in on_teams:
            db.add(ChannelAddress(person_id=person_id, channel="teams", updated_at=NOW,
                                  address=_teams_address(str(aad), service_url)))  # fmt: skip
        ordered = sorted(on_slack) + sorted(p for p, _ in on_teams)
        enqueue_many(db, [OutboxMessage(f"c:{p}", int(p), "checkin", NOW, NUDGE) for p in ordered])  # type: ignore[arg-type]
        db.commit()
    return sorted(int(p) for p in on_slack if p), sorted(int(p) for p, _ in on_teams if p)


def test_a_slack_backlog_queued_first_does_not_hold_back_teams(teams_world: TeamsWorld) -> None:
    world, engine = teams_world, teams_world.engine
    slack_people, teams_people = _people(engine, 40, 6, world.connector.url)
    time = VirtualTime()
    with FakeSlack() as fake:
        slack = SlackSender(web_client(slack_settings(fake)), load_content(), engine)
        slack.limiter = AdaptiveRate(2.0, per_conversation=1.0, clock=time.now, sleep=time.sleep)
        teams = TeamsSender(world.bot)
        teams.limiter = Granted(2.0, per_conversation=7.0, clock=time.now, sleep=time.sleep)
        worker = DeliveryWorker(engine, [slack, teams], clock=lambda: NOW, concurrency=4)
        assert [lane.rows for lane in lanes(worker.senders, 5.0, unpaced=UNPACED_BATCH)] == [
            11, 11, UNPACED_BATCH,
        ]  # fmt: skip
        report = run_on_loop(world.server.loop, worker.run_once())
        slack_got = len(fake.calls_to("chat.postMessage"))
    teams_got = Counter(a["_conversation"] for a in world.connector.sent if "_status" not in a)
    assert report.by_channel == {"slack": 11, "teams": 6}
    assert slack_got == 11  # one pass's Slack budget, not the whole backlog
    assert teams_got == Counter({f"a:aad-{n}": 1 for n in range(6)})  # every Teams row, once
    # Teams' first sends (as many as it may have in flight) start at once, at its own pace:
    # they do not wait for Slack's sends to free their turns (``concurrency`` is per platform)
    first = [round(at - 1_000.0, 1) for at in teams.limiter.granted[:4]]
    assert first == [0.0, 0.5, 1.0, 1.5]
    with Session(engine) as db:
        stored = {row.person_id: row for row in db.exec(select(Outbound))}
    assert {(stored[p].state, stored[p].channel) for p in teams_people} == {("sent", "teams")}
    sent_slack = [p for p in slack_people if stored[p].state == "sent"]
    assert sent_slack == slack_people[:11]  # the oldest first within a platform
    assert {stored[p].state for p in slack_people[11:]} == {"pending"}  # still queued, untried
    assert {stored[p].attempts for p in slack_people[11:]} == {0}


def test_the_lanes_pick_the_people_delivery_sends_to(engine) -> None:  # type: ignore[no-untyped-def]
    kinds = {
        "slack": {"slack_user_id": "U1"},
        "teams with a conversation": {"teams_aad_id": "aad-1"},
        "teams without one": {"teams_aad_id": "aad-2"},
        "both": {"slack_user_id": "U3", "teams_aad_id": "aad-3"},
        "blank slack id": {"slack_user_id": ""},
        "neither": {},
    }
    with Session(engine) as db:
        people = {name: Person(email=f"{n}@example.com", name=name, welcomed_at=NOW, **fields)
                  for n, (name, fields) in enumerate(kinds.items())}  # fmt: skip
        db.add_all(people.values())
        db.flush()
        for name in ("teams with a conversation", "both"):
            db.add(ChannelAddress(person_id=people[name].id, channel="teams", updated_at=NOW,
                                  address=_teams_address("x", "http://127.0.0.1:9")))  # fmt: skip
        db.commit()
        everyone = {p.id: p for p in db.exec(select(Person))}
        teams_open = people_with_address(db, "teams")
    for order in (("slack", "teams"), ("teams", "slack")):
        senders = [_Named(name) for name in order]
        worker = DeliveryWorker(engine, senders, clock=lambda: NOW)
        worker._conversations = {"teams": teams_open}
        with Session(engine) as db:
            picked = {
                (lane.sender.channel if lane.sender else None): set(
                    db.exec(select(Person.id).where(lane.who))  # type: ignore[arg-type]
                )
                for lane in lanes(senders, 5.0, unpaced=UNPACED_BATCH)
            }
        expected: dict[str | None, set[int]] = {"slack": set(), "teams": set(), None: set()}
        for person_id, person in everyone.items():
            message = OutboxMessage("k", person_id, "checkin", NOW, NUDGE)
            sender = worker._sender_for(message, person, NOW)
            expected[sender.channel if sender else None].add(person_id)
        assert picked == expected, order
    ids = {name: person.id for name, person in people.items()}
    assert ids["both"] in picked["teams"]  # the last order: Teams first


def test_a_lane_claims_only_its_people(engine) -> None:  # type: ignore[no-untyped-def]
    slack_people, teams_people = _people(engine, 5, 3, "http://127.0.0.1:9")
    [slack_lane, teams_lane, rest] = lanes(
        [_Named("slack"), _Named("teams")], 5.0, unpaced=UNPACED_BATCH
    )
    with Session(engine) as db:
        teams_rows = claim_due(db, now=NOW, limit=10, who=teams_lane.who)
        slack_rows = claim_due(db, now=NOW, limit=2, who=slack_lane.who, reconcile_people=0)
        nobody = claim_due(db, now=NOW, limit=10, who=rest.who)
        db.commit()
    assert sorted(m.person_id for m in teams_rows) == sorted(teams_people)
    assert [m.person_id for m in slack_rows] == slack_people[:2]
    assert nobody == []


class _Named:
    """A sender of a known channel that is never asked to send (it only names its lane)."""

    def __init__(self, channel: str) -> None:
        from bot.channels.registry import SLACK, TEAMS

        self.channel = channel
        self.limiter = AdaptiveRate(1.0)
        self.lookups = None
        self._reach = {"slack": SLACK, "teams": TEAMS}[channel].can_reach

    def can_reach(self, person: Person) -> bool:
        return self._reach(person)

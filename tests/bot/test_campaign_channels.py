"""HR campaigns end to end through the real channels: a scripted campaign launched with a clock
the test controls, delivered by the outbox worker to the local fake Slack Web API and the fake
Bot Framework connector, buttons clicked through the real Bolt app (signed requests) and the
real botbuilder adapter, and HR's status and report through the ``regie`` command."""

from __future__ import annotations

import asyncio
import csv
import json
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botbuilder.core import TurnContext
from botbuilder.schema import Activity
from slack_sdk.models.blocks import Block, BlockElement
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.channels.slack.client import web_client
from bot.channels.slack.outbound import SlackSender
from bot.channels.teams.outbound import TeamsSender
from bot.config import Settings, get_settings
from bot.delivery import DeliveryReport, DeliveryWorker
from bot.jobs import enqueue_due
from bot.senders import Sender
from bot.wiring import policy
from dialogs.campaigns.launch import launch, plan_launch
from dialogs.campaigns.spec import load_file
from dialogs.engine.content import load_content
from storage.addresses import save_address
from storage.db import dispose_engines
from storage.models import (
    AuditEntry,
    CampaignResponse,
    CampaignRsvp,
    Outbound,
    OutboxState,
    Person,
    Role,
)
from tests.bot.conftest import Run, SlackWorld, TeamsWorld, slack_settings
from tests.bot.slack_fake import FakeSlack
from tests.bot.slack_harness import text_of
from tests.bot.sync_helpers import wait_until
from tests.bot.teams_harness import TeamsClient, card_of, card_text
from tests.bot.teams_harness import run as on_loop
from tests.bot.teams_harness import shown as read
from tests.schema_validators import activity_errors, card_errors

CONTENT = load_content()
POLICY = policy(Settings(_env_file=None))  # type: ignore[call-arg]

# Monday 7 December 2026 (Amsterdam is UTC+1): launched before anyone's day starts.
LAUNCH = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
KICKOFF = datetime(2026, 12, 7, 8, 30, tzinfo=UTC)  # 09:30 in Amsterdam
LINEUP = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)  # 11:00 in Amsterdam
CLICKS = datetime(2026, 12, 7, 10, 15, tzinfo=UTC)
REMINDER = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)  # Tuesday 13:00 in Amsterdam

SLUG = "e2e-week"
BANNER = "https://intranet.example.com/growth-week/banner.png"
PROGRAMME = "https://intranet.example.com/growth-week/programme"
SIGN_UP = "Sign up (the organiser sees your name)"
GIVE_UP = "Give up my place"
ENERGY = "What gives you energy?"
BY_NAME = CONTENT.text("en", "campaign_report.by_name")
"""The report's part (and CSV rows) with who signed up, by name: for the owner only."""
OWNER = "hr@example.com"
OTHER_HR = "other.hr@example.com"

CAMPAIGN = """\
id: e2e-week
name: {en: "Growth Week", nl: "Groeiweek"}
owner: hr@example.com
default_language: en
start: "2026-12-07"
audience:
  emails: [EMAILS]
workshops:
  - id: energy
    title: {en: "What gives you energy?", nl: "Waar krijg jij energie van?"}
    starts: "2026-12-09T14:00+01:00"
    minutes: 90
    where: "Room De Linde"
    capacity: 2
  - id: stories
    title: "Colleagues share"
    starts: "2026-12-09T16:00+01:00"
    minutes: 60
    capacity: 10
steps:
  - id: kickoff
    day: 0
    time: "09:30"
    image: https://intranet.example.com/growth-week/banner.png
    message: "Good morning {first_name}! Growth Week starts today."
    links:
      - {label: "The programme", url: "https://intranet.example.com/growth-week/programme"}
    actions: [interested, not_for_me, remind_tomorrow]
  - id: lineup
    day: 0
    time: "11:00"
    message: "The workshop line-up for this week. Sign up below."
    rsvp: [energy, stories]
  - id: reminder
    day: 1
    time: "13:00"
    only: {not_responded: kickoff}
    message: "Hi {first_name}, Growth Week runs until Friday."
    actions: [interested, not_for_me]
"""

NAMES = ["Anna Jansen", "Bram de Vries", "Carla Bakker", "Daan Visser", "Eva Smit"]


# -- the world ---------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_settings_and_engines() -> Iterator[None]:
    """``regie`` commands and ``enqueue_due`` cache settings and engines per process."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
    dispose_engines()


def email(n: int) -> str:
    return f"{NAMES[n - 1].split()[0].lower()}@example.com"


def add_people(engine: Engine, channel: str, numbers: Sequence[int] = (1, 2, 3, 4, 5)) -> None:
    """Imported employees (not welcomed by Regie yet), reachable in ``channel`` as U<n> or
    aad-<n>, plus the campaign's owner and another HR person."""
    with Session(engine) as db:
        for n in numbers:
            db.add(
                Person(
                    email=email(n),
                    name=NAMES[n - 1],
                    timezone="Europe/Amsterdam",
                    nudge_frequency="off",
                    slack_user_id=f"U{n}" if channel == "slack" else None,
                    teams_aad_id=f"aad-{n}" if channel == "teams" else None,
                )
            )
        for address, name in ((OWNER, "Hanna de Boer"), (OTHER_HR, "Otto Berg")):
            if db.exec(select(Person).where(Person.email == address)).first() is None:
                db.add(Person(email=address, name=name, role=Role.HR, nudge_frequency="off"))
        db.commit()


def person_id(engine: Engine, n: int) -> int:
    with Session(engine) as db:
        found = db.exec(select(Person).where(Person.email == email(n))).one()
        assert found.id is not None
        return found.id


def campaign_file(tmp_path: Path, numbers: Sequence[int] = (1, 2, 3, 4, 5)) -> Path:
    path = tmp_path / "e2e-week.yaml"
    path.write_text(
        CAMPAIGN.replace("EMAILS", ", ".join(email(n) for n in numbers)), encoding="utf-8"
    )
    return path


def launch_file(engine: Engine, path: Path, now: datetime = LAUNCH) -> tuple[int, int]:
    """What ``regie campaign launch FILE --yes`` does, at ``now``: (campaign number, queued)."""
    with Session(engine, expire_on_commit=False) as db:
        spec = load_file(path)
        owner = db.exec(select(Person).where(Person.email == spec.owner)).one()
        plan = plan_launch(db, spec, now=now)
        campaign = launch(db, CONTENT, plan, owner=owner, now=now, policy=POLICY)
        db.commit()
        assert campaign.id is not None
        return campaign.id, plan.queued


def settings_for(db_url: str) -> Settings:
    return Settings(_env_file=None, database_url=db_url)  # type: ignore[call-arg]


def slack_sender(engine: Engine, fake: FakeSlack) -> SlackSender:
    return SlackSender(web_client(slack_settings(fake)), CONTENT, engine)


def deliver(engine: Engine, senders: list[Sender], now: datetime) -> DeliveryReport:
    """One pass of the outbox worker at ``now`` (in this thread's own event loop)."""
    return asyncio.run(DeliveryWorker(engine, senders, clock=lambda: now).run_once())


def deliver_teams(world: TeamsWorld, senders: list[Sender], now: datetime) -> DeliveryReport:
    """One pass of the outbox worker on the Teams adapter's event loop."""
    worker = DeliveryWorker(world.engine, senders, clock=lambda: now)
    report: DeliveryReport = on_loop(world.server.loop, worker.run_once())
    return report


def campaign_rows(engine: Engine) -> list[Outbound]:
    with Session(engine) as db:
        query = select(Outbound).where(col(Outbound.campaign_id).is_not(None))
        return list(db.exec(query.order_by(col(Outbound.id))))


def places(engine: Engine, workshop: str = "energy") -> dict[str, str]:
    """First name -> going / waitlist / cancelled."""
    with Session(engine) as db:
        rows = db.exec(
            select(Person.name, CampaignRsvp.state)
            .join(Person, col(Person.id) == CampaignRsvp.person_id)
            .where(CampaignRsvp.workshop == workshop)
        )
        return {name.split()[0]: state for name, state in rows}


# -- Slack helpers -------------------------------------------------------------------------------


def dm(fake: FakeSlack, n: int) -> list[dict[str, Any]]:
    """Every message in person n's DM with Regie, oldest first (as a click payload needs it)."""
    return [message | {"channel": f"DU{n}"} for message in list(fake.history.get(f"DU{n}", []))]


def elements(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


def click(world: SlackWorld, n: int, message: dict[str, Any], label: str) -> dict[str, Any]:
    """Person n clicks the button ``label`` on ``message`` (a signed request into the Bolt app);
    returns the reply Regie posted in their DM."""
    fake, slack = world.fake, world.slack
    before = len(dm(fake, n))
    for block in message["blocks"]:
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            if element["text"]["text"] == label:
                payload = slack._action(f"U{n}", message, block, element, message["ts"])
                assert slack.interaction(payload).status == 200  # acknowledged; work follows
                wait_until(lambda: len(dm(fake, n)) > before)
                assert len(dm(fake, n)) == before + 1, f"one reply to {label!r}"
                return dm(fake, n)[-1]
    raise AssertionError(f"no button {label!r} in {json.dumps(message['blocks'])[:1500]}")


def update_of(fake: FakeSlack, message: dict[str, Any]) -> dict[str, Any]:
    """The chat.update that settled ``message`` (waits for it)."""
    for _ in range(2):
        updates = [u for u in fake.calls_to("chat.update") if u["ts"] == message["ts"]]
        if updates:
            return updates[-1]
        fake.wait_for("chat.update", len(fake.calls_to("chat.update")) + 1)
    raise AssertionError(f"message {message['ts']} was not updated")


def block_kit_errors(blocks: list[dict[str, Any]]) -> list[str]:
    """What Slack would refuse in a message's blocks, checked with ``slack_sdk``'s own models
    (there is no published JSON schema for Block Kit): every block and element parses as its
    type and passes its size checks; block ids and action ids are unique; at most 50 blocks."""
    errors: list[str] = []
    if not 0 < len(blocks) <= 50:
        errors.append(f"{len(blocks)} blocks")
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    action_ids = [e.get("action_id") for b in blocks for e in b.get("elements", []) or []]
    for name, ids in (("block_id", block_ids), ("action_id", [a for a in action_ids if a])):
        errors += [f"duplicate {name} {i}" for i, n in Counter(ids).items() if n > 1]
    for index, data in enumerate(blocks):
        block = Block.parse(data)
        if block is None or block.type != data["type"]:
            errors.append(f"{index}: unknown block {data.get('type')}")
            continue
        try:
            block.validate_json()
            if data["type"] == "actions":
                for element in data["elements"]:
                    parsed = BlockElement.parse(element)
                    assert parsed is not None, element
                    parsed.validate_json()
        except Exception as error:
            errors.append(f"{index}: {error}")
    return errors


# -- Teams helpers -------------------------------------------------------------------------------


def teams_client(world: TeamsWorld, n: int) -> TeamsClient:
    return TeamsClient(
        world.teams.url,
        world.connector,
        user={"id": f"29:p{n}", "name": NAMES[n - 1], "aadObjectId": f"aad-{n}"},
        conversation=f"a:personal-p{n}",
    )


def install_in_teams(world: TeamsWorld, n: int) -> TeamsClient:
    """The conversation reference Teams gives when a person installs the app, stored as the bot
    stores it (what proactive messages go through)."""
    client = teams_client(world, n)
    activity = Activity().deserialize(client.activity(type="conversationUpdate"))
    reference = TurnContext.get_conversation_reference(activity).serialize()
    with Session(world.engine) as db:
        save_address(db, person_id(world.engine, n), "teams", reference, now=LAUNCH)
        db.commit()
    return client


def sent_to(world: TeamsWorld, n: int) -> list[dict[str, Any]]:
    return [a for a in list(world.connector.sent) if a["_conversation"] == f"a:personal-p{n}"]


def submit(
    world: TeamsWorld, client: TeamsClient, card_activity: dict[str, Any], title: str
) -> dict[str, Any]:
    """Press the Action.Submit ``title`` on a card (in its actions or in an ActionSet); returns
    the reply the bot sent."""
    n = len(world.connector.sent)
    data = submit_data(card_of(card_activity), title)
    assert client.submit(card_activity, data) in (200, 201)
    return world.connector.wait_sent(n + 1, timeout=20)[n]


def submit_data(card: dict[str, Any], title: str) -> dict[str, Any]:
    for action in all_actions(card):
        if action["type"] == "Action.Execute" and action["title"] == title:  # Submit: fallback
            return dict(action["data"])
    raise AssertionError(f"no {title!r} in {json.dumps(card)[:1500]}")


def all_actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    found = list(card.get("actions", []))
    for item in card["body"]:
        if item["type"] == "ActionSet":
            found += item["actions"]
    return found


def assert_valid(world: TeamsWorld) -> None:
    for activity in list(world.connector.sent) + list(world.connector.updates):
        clean = {k: v for k, v in activity.items() if not k.startswith("_")}
        assert activity_errors(clean) == [], clean
        for attachment in clean.get("attachments") or []:
            assert card_errors(attachment["content"]) == []


# -- the command line ----------------------------------------------------------------------------


def table_row(output: str, first: str) -> list[str]:
    """The cells of the rich table row that starts with ``first``."""
    for line in output.splitlines():
        cells = [c.strip() for c in line.replace("┃", "│").strip().strip("│").split("│")]
        if cells and cells[0] == first:
            return cells
    raise AssertionError(f"no row {first!r} in:\n{output}")


# -- 1. Slack ------------------------------------------------------------------------------------


def test_slack_kickoff_sign_ups_waitlist_and_reminders_through_the_real_bolt_app(
    slack_world: SlackWorld, tmp_path: Path, db_url: str
) -> None:
    world, fake, engine = slack_world, slack_world.fake, slack_world.engine
    world.channel.runtime.clock = lambda: CLICKS
    add_people(engine, "slack")
    campaign_id, queued = launch_file(engine, campaign_file(tmp_path))
    assert queued == 10  # kickoff and line-up, for five people; the reminder waits for answers
    sender = slack_sender(engine, fake)

    assert deliver(engine, [sender], KICKOFF).sent == 5
    posts = fake.calls_to("chat.postMessage")
    assert Counter(p["channel"] for p in posts) == {f"U{n}": 1 for n in range(1, 6)}
    intent = f"campaign:{campaign_id}:kickoff"
    for n in range(1, 6):
        [kickoff] = dm(fake, n)
        assert kickoff["metadata"]["event_payload"]["key"] == (
            f"campaign:{SLUG}:kickoff:{person_id(engine, n)}"
        )
        assert (
            f"Good morning {NAMES[n - 1].split()[0]}! Growth Week starts today."
            in (kickoff["text"])
        )
        blocks = kickoff["blocks"]
        assert block_kit_errors(blocks) == []
        assert blocks[0] == {
            "type": "image",
            "image_url": BANNER,
            "alt_text": blocks[0]["alt_text"],
        }
        assert [(e["action_id"], e.get("value"), e.get("url")) for e in elements(kickoff)] == [
            (f"regie:start:{intent}:interested", f"{intent}:interested", None),
            (f"regie:start:{intent}:not_for_me", f"{intent}:not_for_me", None),
            (f"regie:start:{intent}:remind_tomorrow", f"{intent}:remind_tomorrow", None),
            ("regie:link:0", None, PROGRAMME),
        ]
        assert [e["text"]["text"] for e in elements(kickoff)] == [
            "Sounds good",
            "Not for me",
            "Remind me tomorrow",
            "The programme",
        ]
    assert deliver(engine, [sender], KICKOFF).sent == 0  # nothing twice

    assert deliver(engine, [sender], LINEUP).sent == 5
    lineup = dm(fake, 1)[1]
    assert block_kit_errors(lineup["blocks"]) == []
    assert [e["action_id"] for e in elements(lineup)] == [
        f"regie:start:campaign:{campaign_id}:lineup:rsvp:energy",
        f"regie:start:campaign:{campaign_id}:lineup:rsvp:stories",
    ]
    assert "What gives you energy? · 9 Dec 2026, 14:00–15:30 · Room De Linde · 2 places" in (
        text_of(lineup)
    )

    # Anna: "Sounds good"; the buttons make way for her answer, the image and text stay.
    reply = click(world, 1, dm(fake, 1)[0], "Sounds good")
    assert "Lovely, noted!" in text_of(reply)
    settled = update_of(fake, dm(fake, 1)[0])
    assert settled["channel"] == "DU1"
    assert [b["type"] for b in settled["blocks"]] == ["image", "section", "context"]
    assert "✓ Sounds good" in text_of(settled)
    assert "Fair enough" in text_of(click(world, 2, dm(fake, 2)[0], "Not for me"))
    later = click(world, 4, dm(fake, 4)[0], "Remind me tomorrow")
    assert "I'll bring it up again on Tuesday at 09:30" in text_of(later)

    # Three people sign up for a workshop with two places.
    for n in (1, 2):
        going = click(world, n, dm(fake, n)[1], SIGN_UP)
        assert f"You're signed up for {ENERGY}" in text_of(going), text_of(going)
        # a place comes with a link to the workshop's calendar file
        assert [e["text"]["text"] for e in elements(going)] == [GIVE_UP, "Add to calendar"]
        assert "/calendar/" in elements(going)[1]["url"]
    waiting = click(world, 3, dm(fake, 3)[1], SIGN_UP)
    assert f"{ENERGY} is full, so you're on the waitlist (number 1)" in text_of(waiting)
    assert places(engine) == {"Anna": "going", "Bram": "going", "Carla": "waitlist"}
    lineup_settled = update_of(fake, dm(fake, 3)[1])
    assert f"✓ {SIGN_UP}" in text_of(lineup_settled)
    assert [e["action_id"] for e in elements(lineup_settled)] == [
        f"regie:start:campaign:{campaign_id}:lineup:rsvp:stories"  # the other workshop stays
    ]

    # Anna gives her place up; Carla moves up and hears so, through the outbox.
    freed = click(world, 1, dm(fake, 1)[-1], GIVE_UP)
    assert f"Your place for {ENERGY} is free again" in text_of(freed)
    assert places(engine) == {"Anna": "cancelled", "Bram": "going", "Carla": "going"}
    before = len(dm(fake, 3))
    assert deliver(engine, [sender], CLICKS).sent == 1
    [moved_up] = dm(fake, 3)[before:]
    assert f"Good news, Carla: a place opened up for {ENERGY}, and it's yours!" in (
        text_of(moved_up)
    )
    assert [e["text"]["text"] for e in elements(moved_up)] == [GIVE_UP]

    # Tuesday 13:00: the reminder reaches only those who pressed no kickoff button.
    seen = {n: len(dm(fake, n)) for n in range(1, 6)}
    enqueue_due(settings_for(db_url), REMINDER)
    assert deliver(engine, [sender], REMINDER).sent == 3
    new = {n: dm(fake, n)[seen[n] :] for n in range(1, 6)}
    assert {n: len(messages) for n, messages in new.items()} == {1: 0, 2: 0, 3: 1, 4: 1, 5: 1}
    for n in (3, 5):
        assert f"Hi {NAMES[n - 1].split()[0]}, Growth Week runs until Friday." in new[n][0]["text"]
    again = new[4][0]  # Daan asked to be reminded: the kickoff again, without that button
    assert "Good morning Daan!" in again["text"]
    assert [e["text"]["text"] for e in elements(again)] == [
        "Sounds good",
        "Not for me",
        "The programme",
    ]
    enqueue_due(settings_for(db_url), REMINDER + timedelta(minutes=5))
    assert deliver(engine, [sender], REMINDER + timedelta(minutes=5)).sent == 0
    for message in fake.calls_to("chat.postMessage"):
        assert message["text"].strip() and block_kit_errors(message["blocks"]) == []


# -- 2. Teams ------------------------------------------------------------------------------------


def test_teams_cards_per_message_actionsets_per_workshop_and_sign_ups(
    teams_world: TeamsWorld, tmp_path: Path
) -> None:
    world, engine = teams_world, teams_world.engine
    world.bot.runtime.clock = lambda: CLICKS
    add_people(engine, "teams")
    clients = {n: install_in_teams(world, n) for n in range(1, 6)}
    campaign_id, _ = launch_file(engine, campaign_file(tmp_path))
    sender = TeamsSender(world.bot)

    assert deliver_teams(world, [sender], KICKOFF).sent == 5
    intent = f"campaign:{campaign_id}:kickoff"
    for n in range(1, 6):
        [kickoff] = sent_to(world, n)
        card = card_of(kickoff)  # one card, one attachment
        assert f"Good morning {NAMES[n - 1].split()[0]}!" in read(kickoff)
        image = card["body"][0]
        assert (image["type"], image["url"]) == ("Image", BANNER) and image["altText"]
        submits = [a for a in all_actions(card) if a["type"] == "Action.Execute"]
        assert [a["data"]["regie_start"] for a in submits] == [
            f"{intent}:interested",
            f"{intent}:not_for_me",
            f"{intent}:remind_tomorrow",
        ]
        [link] = [a for a in all_actions(card) if a["type"] == "Action.OpenUrl"]
        assert (link["title"], link["url"]) == ("The programme", PROGRAMME)

    assert deliver_teams(world, [sender], LINEUP).sent == 5
    lineups = {n: sent_to(world, n)[1] for n in range(1, 6)}
    card = card_of(lineups[1])
    assert "actions" not in card  # a card of several parts: each with its own buttons
    action_sets = [item for item in card["body"] if item["type"] == "ActionSet"]
    assert [[a["data"]["regie_start"] for a in s["actions"]] for s in action_sets] == [
        [f"campaign:{campaign_id}:lineup:rsvp:energy"],
        [f"campaign:{campaign_id}:lineup:rsvp:stories"],
    ]
    assert f"{ENERGY} · 9 Dec 2026, 14:00–15:30 · Room De Linde · 2 places" in card_text(card)
    assert deliver_teams(world, [sender], LINEUP).sent == 0
    assert all(len(sent_to(world, n)) == 2 for n in range(1, 6))

    # Sign-ups from the multi-part card: recorded; that card is left as it is.
    for n in (1, 2):
        going = submit(world, clients[n], lineups[n], SIGN_UP)
        assert going["_conversation"] == f"a:personal-p{n}"
        assert f"You're signed up for {ENERGY}" in read(going)
        assert [a["title"] for a in all_actions(card_of(going))] == [GIVE_UP, "Add to calendar"]
    waiting = submit(world, clients[3], lineups[3], SIGN_UP)
    assert f"{ENERGY} is full, so you're on the waitlist (number 1)" in read(waiting)
    assert places(engine) == {"Anna": "going", "Bram": "going", "Carla": "waitlist"}
    with Session(engine) as db:
        responses = db.exec(select(CampaignResponse.step, CampaignResponse.kind)).all()
    assert sorted(responses) == [("lineup", "rsvp")] * 3
    assert world.connector.updates == []  # the line-up card keeps its other workshop's button

    # A single-offer card (the reply with "Give up my place") is settled after the press.
    anna_reply = sent_to(world, 1)[-1]
    freed = submit(world, clients[1], anna_reply, GIVE_UP)
    assert f"Your place for {ENERGY} is free again" in read(freed)
    [update] = world.connector.wait_updates(1)
    assert update["_activity_id"] == anna_reply["_id"]
    assert f"✓ {GIVE_UP}" in card_text(card_of(update)) and "actions" not in card_of(update)
    assert places(engine) == {"Anna": "cancelled", "Bram": "going", "Carla": "going"}
    assert deliver_teams(world, [sender], CLICKS).sent == 1
    moved_up = sent_to(world, 3)[-1]
    assert f"Good news, Carla: a place opened up for {ENERGY}, and it's yours!" in read(moved_up)
    assert_valid(world)


def test_teams_kickoff_card_is_settled_after_a_press_like_in_slack(
    teams_world: TeamsWorld, tmp_path: Path
) -> None:
    world, engine = teams_world, teams_world.engine
    world.bot.runtime.clock = lambda: CLICKS
    add_people(engine, "teams", numbers=(1,))
    client = install_in_teams(world, 1)
    launch_file(engine, campaign_file(tmp_path, numbers=(1,)))
    assert deliver_teams(world, [TeamsSender(world.bot)], KICKOFF).sent == 1
    [kickoff] = sent_to(world, 1)
    reply = submit(world, client, kickoff, "Sounds good")
    assert "Lovely, noted!" in read(reply)
    with Session(engine) as db:
        assert db.exec(select(CampaignResponse.kind)).all() == ["interested"]
    # The bot settles a card before it sends the reply: any update has been made by now.
    updates = [u for u in world.connector.updates if u["_activity_id"] == kickoff["_id"]]
    assert len(updates) == 1, "the kickoff card keeps all its buttons after 'Sounds good'"
    assert "✓ Sounds good" in card_text(card_of(updates[0]))


# -- 3. Status and report ------------------------------------------------------------------------


def test_status_and_report_figures_through_the_cli(
    slack_world: SlackWorld, tmp_path: Path, db_url: str, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    world, fake, engine = slack_world, slack_world.fake, slack_world.engine
    world.channel.runtime.clock = lambda: CLICKS
    answer = fake.handle

    def eva_left(method: str, params: dict[str, Any], **how: Any) -> dict[str, Any]:
        """Eva's Slack account is gone: every DM to her fails for good."""
        if method == "chat.postMessage" and params.get("channel") == "U5":
            return {"ok": False, "error": "user_not_found"}
        return answer(method, params, **how)

    monkeypatch.setattr(fake, "handle", eva_left)
    add_people(engine, "slack")
    path = campaign_file(tmp_path)
    validated = run("campaign", "validate", str(path))
    assert validated.returncode == 0 and "OK" in validated.stdout, validated.stderr
    launch_file(engine, path)
    sender = slack_sender(engine, fake)
    assert deliver(engine, [sender], KICKOFF).dead == 1
    assert deliver(engine, [sender], LINEUP).dead == 1
    click(world, 1, dm(fake, 1)[0], "Sounds good")
    click(world, 2, dm(fake, 2)[0], "Not for me")
    click(world, 4, dm(fake, 4)[0], "Remind me tomorrow")
    for n in (1, 2, 3):
        click(world, n, dm(fake, n)[1], SIGN_UP)

    status = run("campaign", "status", SLUG, "--no-watch")
    assert status.returncode == 0, status.stderr
    out = status.stdout
    # (figures by their friendly names, each defined under the tables)
    assert "People targeted 5 · Reached 4 · Responded <5 · Started an experiment 0" in out
    columns = ["Step", "Day", "Queued", "Held", "Sent", "Failed", "Skipped"]
    assert table_row(out, "Step") == [*columns, "Responded to this step", "Not now", "No thanks"]
    # Daan's "remind me tomorrow" copy of the kickoff is the one still queued. "Not now" and
    # "no thanks" are not responses: counted apart, where the step offers them.
    assert table_row(out, "kickoff") == ["kickoff", "0", "1", "0", "4", "1", "0", "<5", "<5", "<5"]
    assert table_row(out, "lineup") == ["lineup", "0", "0", "0", "4", "1", "0", "<5", "", ""]
    assert table_row(out, "reminder") == ["reminder", "1", "0", "0", "0", "0", "0", "0", "", "0"]
    assert "Failed, by reason:" in out and "2  slack: user_not_found" in out
    # Going, places, waitlist: sign-up counts are <K for anyone but the owner.
    assert table_row(out, ENERGY) == [ENERGY, "<5 of 2 places taken · <5 on the waitlist"]
    assert table_row(out, "Colleagues share") == ["Colleagues share", "0 of 10 places taken"]
    assert "Counts of people under 5 show as <5" in out
    assert "Responded to this step  People who answered this step's message with one" in out
    assert not any(name in out for name in NAMES)

    # With a minimum group of 3 the three who responded (signed up) show; Daan only said
    # "not now", which is no response; one or three per step do not show.
    small = run("campaign", "status", SLUG, "--no-watch", extra_env={"REGIE_MIN_GROUP_SIZE": "3"})
    assert "People targeted 5 · Reached 4 · Responded 3 · Started an experiment 0" in small.stdout
    assert table_row(small.stdout, "kickoff")[-3:] == ["<3", "<3", "<3"]
    assert table_row(small.stdout, "lineup")[-3] == "3"

    csv_file, html_file = tmp_path / "f.csv", tmp_path / "f.html"
    report = run("campaign", "report", SLUG, "--csv", str(csv_file), "--html", str(html_file))
    assert report.returncode == 0, report.stderr
    assert table_row(report.stdout, "kickoff") == table_row(out, "kickoff")
    # one figure a row: part, item, figure's name, value, what it means, its key
    table = list(csv.reader(csv_file.open(encoding="utf-8")))
    assert table[0] == ["Part", "Item", "Figure", "Value", "What it means", "Key"]
    rows = {(r[1], r[5]): r[3] for r in table[1:]}
    funnel = ("targeted", "reached", "responded", "experiments")
    assert [rows[("", key)] for key in funnel] == ["5", "4", "<5", "0"]
    for step, waiting, sent, failed, responded in (
        ("kickoff", "1", "4", "1", "<5"),
        ("lineup", "0", "4", "1", "<5"),
        ("reminder", "0", "0", "0", "0"),
    ):
        assert rows[(step, "waiting")] == waiting
        assert rows[(step, "sent")] == sent
        assert rows[(step, "failed")] == failed
        assert rows[(step, "step_responded")] == responded
    assert rows[(ENERGY, "going")] == "<5"
    assert rows[(ENERGY, "waitlist")] == "<5"
    assert rows[(ENERGY, "places")] == "2"
    assert rows[("Colleagues share", "going")] == "0"
    assert rows[("slack: user_not_found", "failed")] == "2"
    assert not any(r[0] == BY_NAME for r in table)
    html = html_file.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and html.count('<ul class="chart">') == 2
    assert (
        '<tr><th scope="row">kickoff</th><td>0</td><td>1</td><td>4</td><td>1</td><td>0</td>'
        "<td>&lt;5</td><td>&lt;5</td><td>&lt;5</td></tr>" in html
    )
    assert "&lt;5 of 2 places taken · &lt;5 on the waitlist" in html
    assert "2 × slack: user_not_found" in html
    # the responded bar of the funnel: suppressed, no bar
    assert '<span class="bar-figures">&lt;5 of 5 people</span>\n</li>' in html
    assert not any(name in html for name in NAMES)

    # The owner sees who signed up, by name (and that look is audited); other HR do not.
    owner = run(
        "campaign",
        "report",
        SLUG,
        "--as",
        OWNER,
        "--csv",
        str(csv_file),
        "--html",
        str(html_file),
    )
    assert owner.returncode == 0, owner.stderr
    assert "Anna Jansen <anna@example.com>" in owner.stdout
    assert "Carla Bakker <carla@example.com>  (waitlist)" in owner.stdout
    signed = [
        (r[1], r[5], r[3]) for r in csv.reader(csv_file.open(encoding="utf-8")) if r[0] == BY_NAME
    ]
    assert signed == [
        (ENERGY, "going", "Anna Jansen <anna@example.com>"),
        (ENERGY, "going", "Bram de Vries <bram@example.com>"),
        (ENERGY, "waitlist", "Carla Bakker <carla@example.com>"),
    ]
    html = html_file.read_text(encoding="utf-8")
    assert "Who signed up (for the campaign&#39;s owner only)" in html
    assert "<li>Carla Bakker (waitlist)</li>" in html
    assert "2 of 2 places taken · 1 on the waitlist" in html  # the owner sees exact counts
    assert table_row(owner.stdout, ENERGY) == [ENERGY, "2 of 2 places taken · 1 on the waitlist"]
    with Session(engine) as db:
        audited = db.exec(select(AuditEntry).where(AuditEntry.action == "campaign_sign_ups")).all()
    assert len(audited) == 3 and {a.subject_id for a in audited} == {
        person_id(engine, n) for n in (1, 2, 3)
    }

    other = run(
        "campaign",
        "report",
        SLUG,
        "--as",
        OTHER_HR,
        "--csv",
        str(csv_file),
        "--html",
        str(html_file),
    )
    assert other.returncode == 0, other.stderr
    assert "Only the campaign's owner sees sign-ups by name." in other.stderr
    assert not any(name in other.stdout + other.stderr for name in NAMES)
    assert BY_NAME not in csv_file.read_text(encoding="utf-8")
    assert not any(name in html_file.read_text(encoding="utf-8") for name in NAMES)
    with Session(engine) as db:
        assert len(db.exec(select(AuditEntry)).all()) == 3  # no look, nothing audited


# -- 4. Launching twice and restarting -----------------------------------------------------------


def test_launch_twice_and_a_restart_send_one_message_per_person_per_step(
    teams_world: TeamsWorld, tmp_path: Path, db_url: str, run: Run
) -> None:
    world, engine = teams_world, teams_world.engine
    add_people(engine, "slack", numbers=(1, 2, 3))
    add_people(engine, "teams", numbers=(4, 5))
    for n in (4, 5):
        install_in_teams(world, n)
    path = campaign_file(tmp_path)
    settings = settings_for(db_url)
    with FakeSlack() as fake:

        def senders() -> list[Sender]:
            """What a (re)started process builds: fresh senders, nothing in memory."""
            return [slack_sender(engine, fake), TeamsSender(world.bot)]

        campaign_id, queued = launch_file(engine, path)
        assert queued == 10
        assert launch_file(engine, path) == (campaign_id, 0)  # launched again: nothing new
        again = run("campaign", "launch", str(path), "--yes")
        assert again.returncode == 0, again.stderr
        assert "Already running, and the file has not changed: nothing to do." in again.stdout
        assert enqueue_due(settings, LAUNCH) == 0

        for now in (KICKOFF, LINEUP):
            assert deliver_teams(world, senders(), now).sent == 5
            assert enqueue_due(settings, now) == 0  # the scheduler fires again after a restart
            assert deliver_teams(world, senders(), now).sent == 0

        # A process died after Slack took a message but before it wrote "sent": on restart the
        # message is found in the DM's history, not sent again.
        with Session(engine) as db:
            row = db.exec(
                select(Outbound).where(
                    Outbound.idempotency_key == f"campaign:{SLUG}:lineup:{person_id(engine, 1)}"
                )
            ).one()
            row.state, row.not_before = OutboxState.SENDING, LINEUP
            db.add(row)
            db.commit()
        restarted = deliver_teams(world, senders(), LINEUP + timedelta(minutes=5))
        assert (restarted.sent, restarted.failed, restarted.dead) == (1, 0, 0)

        assert enqueue_due(settings, REMINDER) == 5  # nobody pressed anything
        assert enqueue_due(settings, REMINDER) == 0
        assert deliver_teams(world, senders(), REMINDER).sent == 5
        assert deliver_teams(world, senders(), REMINDER + timedelta(hours=1)).sent == 0

        keys = [m["metadata"]["event_payload"]["key"] for m in fake.calls_to("chat.postMessage")]
    slack_ids = {person_id(engine, n) for n in (1, 2, 3)}
    assert sorted(keys) == sorted(
        f"campaign:{SLUG}:{step}:{pid}"
        for step in ("kickoff", "lineup", "reminder")
        for pid in slack_ids
    )
    for n in (4, 5):
        texts = [read(activity) for activity in sent_to(world, n)]
        assert len(texts) == 3
        assert sum("Good morning" in t for t in texts) == 1
        assert sum("line-up" in t for t in texts) == 1
        assert sum("runs until Friday" in t for t in texts) == 1
    rows = campaign_rows(engine)
    assert len(rows) == 15 and {r.state for r in rows} == {"sent"}
    assert Counter(r.channel for r in rows) == {"slack": 9, "teams": 6}
    assert_valid(world)


# -- 5. Preview = what arrives -------------------------------------------------------------------


def preview_payloads(output: str) -> dict[str, Any]:
    """``regie campaign preview``: per step, the JSON payload printed under its heading."""
    found: dict[str, Any] = {}
    for part in output.split("\n── step ")[1:]:
        heading, _, payload = part.partition("\n")
        found[heading.split(":")[0]] = json.loads(payload)
    return found


def test_preview_shows_exactly_what_slack_and_teams_receive(
    teams_world: TeamsWorld, tmp_path: Path, db_url: str, run: Run
) -> None:
    world, engine = teams_world, teams_world.engine
    add_people(engine, "slack", numbers=(1,))
    add_people(engine, "teams", numbers=(4,))
    install_in_teams(world, 4)
    path = campaign_file(tmp_path, numbers=(1, 4))
    launch_file(engine, path)
    with FakeSlack() as fake:
        for now in (KICKOFF, LINEUP):
            assert (
                deliver_teams(world, [slack_sender(engine, fake), TeamsSender(world.bot)], now).sent
                == 2
            )
        received = fake.calls_to("chat.postMessage")
    slack = run("campaign", "preview", str(path), "--as", email(1), "--channel", "slack")
    assert slack.returncode == 0, slack.stderr
    shown = preview_payloads(slack.stdout)
    assert [p["blocks"] for p in shown["kickoff"] + shown["lineup"]] == [
        m["blocks"] for m in received
    ]
    assert [p["text"] for p in shown["kickoff"] + shown["lineup"]] == [m["text"] for m in received]
    teams = run("campaign", "preview", str(path), "--as", email(4), "--channel", "teams")
    assert teams.returncode == 0, teams.stderr
    shown = preview_payloads(teams.stdout)
    delivered = sent_to(world, 4)
    assert [card_of(a) for a in shown["kickoff"] + shown["lineup"]] == [
        card_of(a) for a in delivered
    ]
    assert "only if not responded to kickoff" in teams.stdout

"""Campaign guardrails through the real runtime and database: a large or out-of-scope launch
waits for a second person, what launches is exactly what was previewed, a waitlist message
survives an edit, and a launch that queues nothing yet says when the first messages go out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dialogs.campaigns import guardrails
from dialogs.campaigns.launch import CampaignError, launch, plan_launch
from dialogs.campaigns.messages import action_intent
from dialogs.campaigns.spec import parse
from dialogs.engine.dialog import DialogSettings
from dialogs.engine.replies import Offer, reply_from_dict
from dialogs.engine.runtime import Runtime
from dialogs.engine.turn import Turn
from dialogs.registry import DIALOGS
from storage import campaign_guardrails as guard
from storage.models import (
    AuditEntry,
    Campaign,
    CampaignLaunch,
    LaunchState,
    Outbound,
    Person,
    Role,
)
from storage.personal_data import export_person, forget_person
from storage.privacy import Reader
from tests.dialogs.conftest import add_person
from tests.dialogs.test_campaigns import CONTENT, LAUNCH, POLICY, WEEK, people, rows

SALES_ONLY = WEEK.replace(
    "default_language: en\n", "default_language: en\naudience:\n  departments: [Sales]\n"
)


def runtime(engine: Engine, now: datetime, folder: Path, limit: int = 50) -> Runtime:
    settings = DialogSettings(campaigns_dir=str(folder), campaign_approval_over=limit)
    return Runtime(engine, dialogs=DIALOGS, content=CONTENT, clock=lambda: now, settings=settings)


def author(engine: Engine, person_id: int, scope: str) -> None:
    with Session(engine) as db:
        person = db.get(Person, person_id)
        assert person is not None
        guard.set_scope(
            db, person, guard.Scope.parse(scope), actor=Reader.administrator("ops"), now=LAUNCH
        )
        db.commit()


@pytest.fixture
def team(engine: Engine) -> dict[str, int]:
    """Hanna (hr, may reach everyone), Bob (hr, Sales only), Ada (admin), four employees."""
    found = {
        "hanna": add_person(engine, "hr@example.com", name="Hanna Hr", role=Role.HR),
        "bob": add_person(engine, "bob@example.com", name="Bob Bakker", role=Role.HR),
        "ada": add_person(engine, "ada@example.com", name="Ada Admin", role=Role.ADMIN),
    }
    author(engine, found["hanna"], "all")
    author(engine, found["bob"], "department:Sales")
    people(engine, 2, department="Sales")
    add_person(engine, "it1@example.com", department="IT")
    add_person(engine, "it2@example.com", department="IT")
    return found


def launches(engine: Engine) -> list[CampaignLaunch]:
    with Session(engine) as db:
        return list(db.exec(select(CampaignLaunch).order_by(col(CampaignLaunch.id))))


def outbox_of(engine: Engine, person_id: int) -> list[Outbound]:
    with Session(engine) as db:
        query = select(Outbound).where(Outbound.person_id == person_id, Outbound.kind == "system")
        return list(db.exec(query))


def texts(replies: Sequence[object]) -> str:
    return "\n".join(str(getattr(r, "text", "")) for r in replies)


def test_a_launch_over_the_limit_waits_until_a_second_person_approves(
    engine: Engine, team: dict[str, int], tmp_path: Path
) -> None:
    (tmp_path / "growth-week.yaml").write_text(WEEK, encoding="utf-8")
    hanna, ada, bob = team["hanna"], team["ada"], team["bob"]
    rt = runtime(engine, LAUNCH, tmp_path, limit=5)
    rt.handle(Turn(person_id=hanna, text="campaigns"))
    preview = texts(rt.handle(Turn(person_id=hanna, text="1")))
    assert "would reach 7 people (en: 7)" in preview
    assert "• kickoff (day 0, 09:30): Hi {first_name}, it's growth week!" in preview
    assert "needs a second pair of eyes (why: a large audience)" in preview
    asked = texts(rt.handle(Turn(person_id=hanna, text="yes")))
    # Bob's scope (Sales) does not cover this audience: only Ada is asked.
    assert "I've asked 1 colleague to approve it" in asked
    assert rows(engine) == []  # nothing goes out
    with Session(engine) as db:
        assert db.exec(select(Campaign)).first() is None
    (pending,) = launches(engine)
    assert (pending.state, pending.audience, pending.reasons) == ("pending", 7, ["size"])
    assert pending.spec_hash == parse(WEEK).hash and pending.requested_by_id == hanna
    assert outbox_of(engine, bob) == []
    (request,) = outbox_of(engine, ada)
    offer = reply_from_dict(request.payload[0])
    assert isinstance(offer, Offer) and "Hanna would like a second pair of eyes" in offer.text
    assert [intent for intent, _ in offer.actions] == [
        f"campaigns:review:{pending.id}",
        f"campaigns:decline:{pending.id}",
    ]
    # Whoever asked cannot approve it too.
    own = texts(rt.handle(Turn(person_id=hanna, intent=f"campaigns:review:{pending.id}")))
    assert "you asked for this launch yourself" in own
    assert launches(engine)[0].state == "pending" and rows(engine) == []
    # It waits in Ada's campaigns list too.
    listed = rt.handle(Turn(person_id=ada, text="campaigns"))
    labels = [o.label for o in listed[-1].options()]  # type: ignore[union-attr]
    assert labels[0] == "Review Growth week (7 people, asked by Hanna)"
    # Ada sees exactly what was previewed, and approves: it launches.
    review = texts(rt.handle(Turn(person_id=ada, intent=f"campaigns:review:{pending.id}")))
    assert "Hanna asked for a second pair of eyes" in review
    assert "would reach 7 people" in review and "it's growth week!" in review
    done = texts(rt.handle(Turn(person_id=ada, text="Approve and launch")))
    assert "Approved, thank you" in done and "Launched! 14 messages are queued" in done
    (approved,) = launches(engine)
    assert (approved.state, approved.decided_by_id) == ("approved", ada)
    with Session(engine) as db:
        campaign = db.exec(select(Campaign)).one()
        assert approved.campaign_id == campaign.id and campaign.spec_hash == pending.spec_hash
        actions = {
            (e.action, e.actor_id) for e in db.exec(select(AuditEntry)) if "campaign" in e.action
        }
    assert {("campaign_approval_requested", hanna), ("campaign_approved", ada)} <= actions
    assert len(rows(engine)) == 14
    (told,) = outbox_of(engine, hanna)
    assert "Ada approved Growth week" in told.payload[0]["text"]
    # Pressing the old button again changes nothing.
    again = texts(rt.handle(Turn(person_id=ada, intent=f"campaigns:review:{pending.id}")))
    assert "already approved" in again and len(rows(engine)) == 14


def test_a_declined_launch_sends_nothing_and_the_author_hears(
    engine: Engine, team: dict[str, int], tmp_path: Path
) -> None:
    (tmp_path / "growth-week.yaml").write_text(WEEK, encoding="utf-8")
    hanna, ada = team["hanna"], team["ada"]
    rt = runtime(engine, LAUNCH, tmp_path, limit=5)
    rt.handle(Turn(person_id=hanna, text="campaigns"))
    rt.handle(Turn(person_id=hanna, text="1"))
    rt.handle(Turn(person_id=hanna, text="yes"))
    (pending,) = launches(engine)
    said = texts(rt.handle(Turn(person_id=ada, intent=f"campaigns:decline:{pending.id}")))
    assert "Declined. Nothing was sent" in said
    assert launches(engine)[0].state == "declined" and rows(engine) == []
    (told,) = outbox_of(engine, hanna)
    assert "Ada declined Growth week" in told.payload[0]["text"]


def test_an_author_cannot_reach_outside_their_scope_alone(
    engine: Engine, team: dict[str, int]
) -> None:
    bob, hanna, ada = team["bob"], team["hanna"], team["ada"]
    employee = add_person(engine, "emp@example.com", department="Sales")
    with Session(engine, expire_on_commit=False) as db:
        people_of = {pid: db.get(Person, pid) for pid in (bob, hanna, ada, employee)}
        sales = plan_launch(db, parse(SALES_ONLY), now=LAUNCH)
        everyone = plan_launch(db, parse(WEEK), now=LAUNCH)
        onboarding = plan_launch(
            db, parse(SALES_ONLY.replace("start: 2026-12-07", "start: start_date")), now=LAUNCH
        )
        unfiltered = plan_launch(
            db, parse(WEEK.replace("start: 2026-12-07", "start: start_date")), now=LAUNCH
        )

        def why(plan: object, who: int) -> list[str]:
            person = people_of[who]
            assert person is not None
            return guardrails.reasons(db, plan, person, approval_over=50)  # type: ignore[arg-type]

        assert why(sales, bob) == []  # Sales people only: Bob's own
        assert why(everyone, bob) == ["scope"]  # IT people too
        assert why(onboarding, bob) == []  # its filter keeps future starters in Sales
        assert why(unfiltered, bob) == ["scope"]  # anyone who starts would join
        assert why(everyone, hanna) == [] and why(everyone, ada) == []
        with pytest.raises(CampaignError, match="takes the hr role"):
            why(sales, employee)
        # Bob asks for the whole company: it waits; and he cannot approve Hanna's either.
        bob_person = people_of[bob]
        assert bob_person is not None
        done = guardrails.submit(
            db,
            CONTENT,
            everyone,
            author=bob_person,
            actor=Reader.of(bob_person),
            now=LAUNCH,
            policy=POLICY,
            approval_over=50,
        )
        assert done.waiting and done.record.reasons == ["scope"]
        assert done.asked == 2  # Hanna (everyone) and Ada (admin)
        db.commit()
        assert db.exec(select(Campaign)).first() is None
        assert done.record.id is not None
        with pytest.raises(CampaignError, match="you asked for this launch yourself"):
            guardrails.approve(
                db,
                CONTENT,
                done.record.id,
                approver=bob_person,
                actor=Reader.of(bob_person),
                now=LAUNCH,
                policy=POLICY,
            )
    with pytest.raises(guard.ScopeError, match="department:NAME"):
        guard.Scope.parse("team:Sales")
    assert (
        str(guard.Scope.parse(" department:Sales , country:be ")) == "department:Sales,country:BE"
    )


def test_an_approval_binds_the_version_that_was_previewed(
    engine: Engine, team: dict[str, int]
) -> None:
    hanna, ada = team["hanna"], team["ada"]
    changed = WEEK.replace("it's growth week!", "growth week starts!")
    with Session(engine, expire_on_commit=False) as db:
        asker, approver = db.get(Person, hanna), db.get(Person, ada)
        assert asker and approver

        def ask(text: str) -> int:
            assert asker is not None
            done = guardrails.submit(
                db,
                CONTENT,
                plan_launch(db, parse(text), now=LAUNCH),
                author=asker,
                actor=Reader.of(asker),
                now=LAUNCH,
                policy=POLICY,
                approval_over=3,
            )
            assert done.waiting and done.record.id is not None
            return done.record.id

        first = ask(WEEK)
        second = ask(changed)  # the file changed: a new approval, the old request is void
        db.commit()
        with pytest.raises(CampaignError, match="already superseded"):
            guardrails.approve(
                db,
                CONTENT,
                first,
                approver=approver,
                actor=Reader.of(approver),
                now=LAUNCH,
                policy=POLICY,
            )
        with pytest.raises(guard.SelfApproval):
            record = db.get(CampaignLaunch, second)
            assert record is not None
            guard.decide(db, record, approve=True, by=Reader.of(asker), now=LAUNCH)
        guardrails.approve(
            db,
            CONTENT,
            second,
            approver=approver,
            actor=Reader.of(approver),
            now=LAUNCH,
            policy=POLICY,
        )
        db.commit()
        campaign = db.exec(select(Campaign)).one()
        assert campaign.spec_hash == parse(changed).hash
        assert [r.state for r in guard.history(db, "growth-week")] == [
            LaunchState.SUPERSEDED,
            LaunchState.APPROVED,
        ]
    kickoff = reply_from_dict(rows(engine, "kickoff")[0].payload[0])
    assert "growth week starts!" in kickoff.text


def test_the_chat_launches_the_previewed_version_even_if_the_file_changed(
    engine: Engine, team: dict[str, int], tmp_path: Path
) -> None:
    path = tmp_path / "growth-week.yaml"
    path.write_text(WEEK, encoding="utf-8")
    hanna = team["hanna"]
    rt = runtime(engine, LAUNCH, tmp_path)
    rt.handle(Turn(person_id=hanna, text="campaigns"))
    assert "would reach 7 people" in texts(rt.handle(Turn(person_id=hanna, text="1")))
    path.write_text(WEEK.replace("it's growth week!", "SOMETHING ELSE"), encoding="utf-8")
    said = texts(rt.handle(Turn(person_id=hanna, text="yes")))
    assert "growth-week.yaml changed after your preview. I used the version you saw" in said
    assert "Launched! 14 messages are queued" in said
    with Session(engine) as db:
        assert db.exec(select(Campaign)).one().spec_hash == parse(WEEK).hash
    assert all("it's growth week!" in r.payload[0]["text"] for r in rows(engine, "kickoff"))
    (record,) = launches(engine)
    assert (record.state, record.decided_by_id) == ("launched", None)


def test_a_launch_that_queues_nothing_yet_says_when_the_first_messages_go_out(
    engine: Engine, team: dict[str, int], tmp_path: Path
) -> None:
    (tmp_path / "growth-week.yaml").write_text(WEEK, encoding="utf-8")
    saturday = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)  # kickoff: Monday 09:30, queued a day ahead
    hanna = team["hanna"]
    with Session(engine) as db:
        person = db.get(Person, hanna)
        assert person is not None
        person.language = "nl"
        db.add(person)
        db.commit()
    rt = runtime(engine, saturday, tmp_path)
    rt.handle(Turn(person_id=hanna, text="campagnes"))
    rt.handle(Turn(person_id=hanna, text="1"))
    said = texts(rt.handle(Turn(person_id=hanna, text="ja")))
    assert "Er staat nog niets in de wachtrij" in said
    assert "De eerste gaan maandag 7 dec 2026, 09:30 de deur uit (jouw tijd)" in said
    assert rows(engine) == []


def test_a_moved_up_message_survives_an_edit_of_its_step(engine: Engine) -> None:
    hr = add_person(engine, "hr@example.com", name="Hanna Hr", role=Role.HR)
    ids = people(engine, 3)
    with Session(engine, expire_on_commit=False) as db:
        owner = db.get(Person, hr)
        assert owner
        campaign = launch(
            db,
            CONTENT,
            plan_launch(db, parse(WEEK), now=LAUNCH),
            owner=owner,
            now=LAUNCH,
            policy=POLICY,
        )
        db.commit()
    assert campaign.id is not None
    now = datetime(2026, 12, 7, 10, 30, tzinfo=UTC)
    rt = runtime(engine, now, Path("campaigns"))
    rsvp = action_intent(campaign.id, "lineup", "rsvp", "energy")
    for person in ids:
        rt.handle(Turn(person_id=person, intent=rsvp))
    rt.handle(
        Turn(person_id=ids[0], intent=action_intent(campaign.id, "lineup", "cancel", "energy"))
    )
    edited = parse(WEEK.replace("Today's workshop", "Today's workshop (new room)"))
    with Session(engine, expire_on_commit=False) as db:
        plan = plan_launch(db, edited, now=now)
        assert plan.changed_steps == ["lineup"]
        launch(db, CONTENT, plan, owner=owner, now=now, policy=POLICY)
        db.commit()
    lineup = rows(engine, "lineup")
    (moved,) = [r for r in lineup if "place-" in r.idempotency_key]
    assert moved.person_id == ids[2]
    assert "a place opened up" in reply_from_dict(moved.payload[0]).text
    own = [r for r in lineup if "place-" not in r.idempotency_key]
    assert own and all("(new room)" in r.payload[0]["text"] for r in own)
    assert plan.updated_messages == len(own)


def test_the_history_is_exported_and_forgetting_leaves_only_the_fact(
    engine: Engine, team: dict[str, int]
) -> None:
    hanna, ada = team["hanna"], team["ada"]
    mine = WEEK.replace(
        "default_language: en\n",
        "default_language: en\naudience:\n  emails: [hr@example.com, ada@example.com, "
        "bob@example.com, p0@example.com, p1@example.com]\n",
    )
    with Session(engine, expire_on_commit=False) as db:
        asker, approver = db.get(Person, hanna), db.get(Person, ada)
        assert asker and approver and approver.id
        done = guardrails.submit(
            db,
            CONTENT,
            plan_launch(db, parse(mine), now=LAUNCH),
            author=asker,
            actor=Reader.of(asker),
            now=LAUNCH,
            policy=POLICY,
            approval_over=3,
        )
        assert done.record.id is not None
        guardrails.approve(
            db,
            CONTENT,
            done.record.id,
            approver=approver,
            actor=Reader.of(approver),
            now=LAUNCH,
            policy=POLICY,
        )
        db.commit()
        exported = export_person(db, asker)
        assert [r["state"] for r in exported["campaign_launch"]] == ["approved"]
        assert exported["campaign_author"][0]["everyone"] is True
        forget_person(db, approver)
        db.commit()
        (record,) = db.exec(select(CampaignLaunch)).all()
        assert (record.state, record.decided_by_id, record.requested_by_id) == (
            "approved",
            None,
            hanna,
        )
        assert "ada@example.com" not in str(record.spec)
        forget_person(db, asker)
        db.commit()
        record = db.exec(select(CampaignLaunch)).one()
        assert record.requested_by_id is None and "hr@example.com" not in str(record.spec)
        assert guard.scope_of(db, hanna) is None

"""The learning-needs pulse end to end through the real runtime and database (both): answering
in English and Dutch, declining, postponing, stopping halfway, reading one's own answers back
until it closes, and what is stored — answers without anyone's name, and after closing nothing
that links a person to an answer."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from dialogs.campaigns.launch import launch, plan_launch
from dialogs.campaigns.messages import action_intent
from dialogs.campaigns.planner import due_messages
from dialogs.campaigns.report import build
from dialogs.campaigns.spec import parse
from dialogs.engine.calendar import NudgePolicy
from dialogs.engine.content import load_content
from dialogs.engine.runtime import Runtime
from storage import pulse as stored
from storage.models import (
    Campaign,
    CampaignResponse,
    DialogSession,
    Outbound,
    OutboxState,
    Person,
    PulseAnswer,
    PulseCopy,
    Role,
)
from storage.outbox import enqueue_many
from storage.personal_data import export_person, forget_person
from tests.dialogs.conftest import NOW, Clock, add_person
from tests.dialogs.transcript import Transcript

POLICY = NudgePolicy()
CONTENT = load_content()
PULSE = """\
id: pulse-2026
name: {en: Learning pulse, nl: Leerpeiling}
owner: hr@example.com
start: 2026-11-23
default_language: en
pulse:
  closes: 2026-11-27
  questions:
    - id: room
      kind: scale
      text: {en: "Room to learn?", nl: "Ruimte om te leren?"}
    - id: topic
      kind: choice
      text: {en: "Grow in what?", nl: "Groeien in wat?"}
      choices:
        - {id: craft, label: {en: My craft, nl: Mijn vak}}
        - {id: digital, label: {en: Digital skills, nl: Digitale vaardigheden}}
    - id: wish
      kind: text
      text: {en: "Anything else?", nl: "Nog iets?"}
steps:
  - id: invite
    day: 0
    time: "10:00"
    message: {en: "Learn what, {first_name}?", nl: "Wat wil jij leren, {first_name}?"}
    actions: [pulse, remind_tomorrow, not_for_me]
  - id: reminder
    day: 2
    time: "10:00"
    only: {not_responded: invite}
    message: {en: "Still open", nl: "Nog open"}
    actions: [pulse, not_for_me]
"""


def org(engine: Engine) -> dict[str, int]:
    ids = {"hr": add_person(engine, "hr@example.com", role=Role.HR)}
    for n in range(6):
        ids[f"sales{n}"] = add_person(
            engine, f"sales{n}@example.com", department="Sales", language="nl" if n == 1 else "en"
        )
    for n in range(2):
        ids[f"legal{n}"] = add_person(engine, f"legal{n}@example.com", department="Legal")
    return ids


def launched(engine: Engine) -> int:
    with Session(engine) as db:
        owner = db.exec(select(Person).where(Person.email == "hr@example.com")).one()
        spec = parse(PULSE)
        campaign = launch(
            db, CONTENT, plan_launch(db, spec, now=NOW), owner=owner, now=NOW, policy=POLICY
        )
        db.commit()
        assert campaign.id is not None
        return campaign.id


def answer(tx: Transcript, campaign_id: int, room: str | None, topic: str | None, wish: str | None):
    tx.press(action_intent(campaign_id, "invite", "pulse"))
    for value in (room, topic):
        if value is None:
            tx.send(tx.t("pulse.skip"))
        else:
            tx.choose(value)
    tx.send(wish if wish is not None else tx.t("pulse.skip"))


def test_answers_are_stored_without_the_person_and_read_back_until_close(
    engine: Engine, runtime: Runtime, clock: Clock
) -> None:
    ids = org(engine)
    campaign_id = launched(engine)
    en = Transcript(runtime, ids["sales0"])
    en.press(action_intent(campaign_id, "invite", "pulse"))
    en.expect("Learning pulse is 3 short questions", "anonymous", "(1/3) Room to learn?")
    en.choose("4")
    en.expect("(2/3) Grow in what?", "Digital skills")
    assert en.prompt.skip_label == "Skip this one"  # every question may be skipped
    en.choose("digital")
    en.expect("(3/3) Anything else?")
    en.send("MARKER-WISH pottery")
    en.expect("Thank you!", "Room to learn? 4 of 5", "Digital skills", "MARKER-WISH pottery")
    en.expect("my pulse")

    nl = Transcript(runtime, ids["sales1"])
    answer(nl, campaign_id, None, "craft", None)
    nl.expect("Dank je wel!", "Ruimte om te leren? (overgeslagen)", "Mijn vak", "mijn peiling")

    en.send("my pulse")
    en.expect("Your answers to Learning pulse", "4 of 5", "MARKER-WISH pottery")
    nl.send("mijn peiling")
    nl.expect("Jouw antwoorden op Leerpeiling", "Mijn vak").expect_not("MARKER")
    en.press(action_intent(campaign_id, "invite", "pulse"))  # a second time: no second answer
    en.expect("already answered", "4 of 5")

    with Session(engine) as db:
        rows = list(db.exec(select(PulseAnswer)))
        assert sorted((r.question, r.value) for r in rows) == [
            ("room", "4"),
            ("topic", "craft"),
            ("topic", "digital"),
            ("wish", "MARKER-WISH pottery"),
        ]
        assert {r.department for r in rows} == {"Sales"}  # six of them: enough to keep
        assert not hasattr(PulseAnswer, "person_id") and not hasattr(PulseAnswer, "at")
        answered = db.exec(select(CampaignResponse).where(CampaignResponse.kind == "pulse"))
        assert {r.person_id for r in answered} == {ids["sales0"], ids["sales1"]}
        assert len(list(db.exec(select(PulseCopy)))) == 4
        sessions = db.exec(select(DialogSession).where(DialogSession.dialog_id == "pulse"))
        assert all("answers" not in s.values for s in sessions)  # no copy in the conversation
        before = {r.id for r in rows}

    clock.now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)  # the 27th is over everywhere
    with Session(engine) as db:
        due_messages(db, CONTENT, now=clock.now, policy=POLICY)
        db.commit()
    with Session(engine) as db:
        assert list(db.exec(select(PulseCopy))) == []
        rows = list(db.exec(select(PulseAnswer)))
        assert len(rows) == 4 and before.isdisjoint(r.id for r in rows)  # rewritten, new ids
        assert stored.is_closed(db, campaign_id)
    en.send("my pulse")
    en.expect(en.t("pulse.mine_none")).expect_not("MARKER")
    late = Transcript(runtime, ids["sales2"])
    late.press(action_intent(campaign_id, "invite", "pulse"))
    late.expect("Learning pulse has closed")
    with Session(engine) as db:
        assert len(list(db.exec(select(PulseAnswer)))) == 4
        person = db.get(Person, ids["sales0"])
        assert person is not None
        assert export_person(db, person)["pulse_answer"] == []  # nothing links them any more


def test_a_small_department_is_not_written_down(engine: Engine, runtime: Runtime) -> None:
    ids = org(engine)
    campaign_id = launched(engine)
    answer(Transcript(runtime, ids["legal0"]), campaign_id, "2", "craft", None)
    with Session(engine) as db:
        assert {r.department for r in db.exec(select(PulseAnswer))} == {None}


def test_declining_postponing_and_stopping_halfway_store_no_answer(
    engine: Engine, runtime: Runtime
) -> None:
    ids = org(engine)
    campaign_id = launched(engine)
    no = Transcript(runtime, ids["sales2"])
    no.press(action_intent(campaign_id, "invite", "not_for_me"))
    no.expect("Fair enough")
    later = Transcript(runtime, ids["sales3"])
    later.press(action_intent(campaign_id, "invite", "remind_tomorrow"))
    later.expect("10:00")
    halfway = Transcript(runtime, ids["sales4"])
    halfway.press(action_intent(campaign_id, "invite", "pulse"))
    halfway.choose("5")
    halfway.send("stop")
    dutch = Transcript(runtime, ids["sales1"])
    dutch.press(action_intent(campaign_id, "invite", "pulse"))
    for _ in range(3):
        dutch.send("overslaan")
    dutch.expect("alle vragen overgeslagen")
    with Session(engine) as db:
        assert list(db.exec(select(PulseAnswer))) == []
        copies = db.exec(
            select(Outbound).where(
                Outbound.person_id == ids["sales3"], Outbound.idempotency_key.endswith(":again")
            )
        )
        assert len(list(copies)) == 1  # "not now": the invitation once more, the next day
        reminders = due_messages(
            db, CONTENT, now=datetime(2026, 11, 25, 12, 0, tzinfo=UTC), policy=POLICY
        )
        enqueue_many(db, reminders)
        db.commit()
        reminded = {
            m.person_id
            for m in db.exec(select(Outbound).where(Outbound.campaign_step == "reminder"))
            if m.state != OutboxState.SKIPPED
        }
    # the one who stopped halfway and those who never pressed get the one reminder
    assert ids["sales4"] in reminded and ids["sales5"] in reminded
    assert ids["sales2"] not in reminded and ids["sales3"] not in reminded

    answer(Transcript(runtime, ids["sales0"]), campaign_id, "4", None, None)
    with Session(engine) as db:
        campaign = db.get(Campaign, campaign_id)
        assert campaign is not None
        figures = build(db, campaign, min_group=3, now=NOW).figures
    invite = figures.steps["invite"]
    # only the one who answered responded; "not now" and "no thanks" are counted apart
    assert (invite.responded, invite.not_now, invite.no_thanks) == (1, 1, 1)
    assert figures.responded == 1


def test_forgetting_before_close_removes_the_answers_too(engine: Engine, runtime: Runtime) -> None:
    ids = org(engine)
    campaign_id = launched(engine)
    answer(Transcript(runtime, ids["sales0"]), campaign_id, "3", "digital", "MARKER-GONE")
    answer(Transcript(runtime, ids["sales5"]), campaign_id, "1", "craft", None)
    with Session(engine) as db:
        person = db.get(Person, ids["sales0"])
        assert person is not None
        exported = export_person(db, person)["pulse_answer"]
        assert {"campaign_id": campaign_id, "question": "wish", "value": "MARKER-GONE"} in exported
        forget_person(db, person)
        db.commit()
    with Session(engine) as db:
        values = sorted(r.value for r in db.exec(select(PulseAnswer)))
        assert values == ["1", "craft"]
        assert db.get(Campaign, campaign_id) is not None

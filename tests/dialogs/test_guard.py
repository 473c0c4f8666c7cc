"""No path through the product leaks: a manager of team A gets nothing about team B, nobody
gets another person's private item, and HR gets counts over groups of at least K only."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session

from dialogs.engine.content import load_content
from dialogs.engine.replies import Prompt
from dialogs.engine.runtime import DIALOG_INTENTS
from dialogs.nudges.digest import compose
from storage.models import (
    Answer,
    Campaign,
    Experiment,
    FeedbackAsk,
    FeedbackRequest,
    GrowthConversation,
    LearningEntry,
    Person,
    PlanItem,
    Story,
)
from storage.reports import participation
from tests.dialogs.conftest import NOW
from tests.dialogs.transcript import Transcript


def org(engine) -> dict[str, int]:
    ids: dict[str, int] = {}
    with Session(engine) as db:
        for name, role in (("manager.a", "manager"), ("manager.b", "manager"), ("hr", "hr")):
            person = Person(
                email=f"{name}@example.com", name=name.title(), role=role, welcomed_at=NOW
            )
            db.add(person)
            db.flush()
            ids[name] = person.id
        recent = NOW - timedelta(days=2)
        for team in ("a", "b"):
            for n in range(5):
                person = Person(
                    email=f"{team}{n}@example.com",
                    name=f"{team.upper()}{n} Person",
                    manager_id=ids[f"manager.{team}"],
                    welcomed_at=NOW - timedelta(days=60),
                )
                db.add(person)
                db.flush()
                ids[f"{team}{n}"] = person.id
                marker = team.upper()
                db.add(
                    Experiment(
                        person_id=person.id,
                        title=f"{marker}-SHARED-{n}",
                        visibility="manager",
                        created_at=recent,
                        updated_at=recent,
                    )
                )
                db.add(
                    Answer(
                        person_id=person.id,
                        dialog_id="reflection",
                        question_id="dot-on-horizon",
                        text=f"{marker}-PRIVATE-{n}",
                        created_at=recent,
                    )
                )
                db.add(
                    PlanItem(
                        person_id=person.id,
                        kind="team",
                        title=f"{marker}-PRIVATE-PLAN-{n}",
                        created_at=recent,
                    )
                )
                db.add(
                    LearningEntry(
                        person_id=person.id,
                        kind="course",
                        title=f"{marker}-PRIVATE-LEARNING-{n}",
                        created_at=recent,
                    )
                )
                db.add(  # team B brought its agenda (only B's manager may read it); A kept it
                    GrowthConversation(
                        person_id=person.id,
                        manager_id=ids[f"manager.{team}"],
                        planned_for=NOW.date() + timedelta(days=3),
                        set_by="employee",
                        topics=f"B-AGENDA-{n}" if team == "b" else f"A-PRIVATE-PREP-{n}",
                        agenda_shared_at=recent if team == "b" else None,
                    )
                )
        # feedback: A's shared with manager A, B's private; stories: B's consented for HR
        for owner, colleague, marker, shared in (("a0", "a1", "A", True), ("b0", "b1", "B", False)):
            request = FeedbackRequest(
                person_id=ids[owner],
                topic=f"{marker}-FEEDBACK-{'SHARED' if shared else 'PRIVATE'}",
                visibility="manager" if shared else "private",
            )
            db.add(request)
            db.flush()
            assert request.id is not None
            db.add(
                FeedbackAsk(
                    request_id=request.id,
                    colleague_id=ids[colleague],
                    state="answered",
                    answer=f"{marker}-ANSWER-{'SHARED' if shared else 'PRIVATE'}",
                )
            )
        db.add(Story(person_id=ids["a0"], title="A-STORY-PRIVATE", tried="t", learned="l"))
        db.add(Story(person_id=ids["b0"], title="B-STORY-CONSENTED", for_hr=True))
        _answered_pulse(db, ids)
        db.commit()
    return ids


def _answered_pulse(db: Session, ids: dict[str, int]) -> None:
    """An open learning-needs pulse everyone got; a0 and b0 wrote something in it."""
    from dialogs.campaigns.spec import parse
    from storage import campaigns, pulse
    from tests.dialogs.test_pulse import PULSE

    spec = parse(PULSE.replace("2026-11-27", "2026-12-31"))
    campaign = Campaign(slug=spec.id, name="pulse", spec=spec.raw, spec_hash=spec.hash)
    db.add(campaign)
    db.flush()
    assert campaign.id is not None
    campaigns.add_recipients(db, campaign.id, ids.values(), now=NOW)
    for who in ("a0", "b0"):
        person = db.get(Person, ids[who])
        assert person is not None
        answers = {"wish": f"{who.upper()[0]}-PRIVATE-PULSE"}
        pulse.save(db, campaign.id, "invite", person, answers, min_group=5, now=NOW)


def everything_said(runtime, person_id: int) -> str:
    """Every intent in both languages, and every option of every first question."""
    tx = Transcript(runtime, person_id)
    seen: list[str] = []
    for intent in [*DIALOG_INTENTS, "help"]:
        tx.send(intent if intent != "team" else "my team")
        seen.append(tx.text)
        prompts = [r for r in tx.replies if isinstance(r, Prompt)]
        for option in [o.value for o in prompts[-1].options()] if prompts else []:
            if option in ("delete", "nothing", "done", "back"):
                continue
            tx.send(intent if intent != "team" else "my team")
            try:
                tx.choose(option)
            except AssertionError:
                continue
            seen.append(tx.text)
        tx.send("stop")
    return "\n".join(seen)


def test_a_manager_sees_only_what_their_own_people_shared(engine, runtime) -> None:
    ids = org(engine)
    said = everything_said(runtime, ids["manager.a"])
    assert "A-SHARED-0" in said  # the digest works...
    assert "A-ANSWER-SHARED" in said  # feedback a report shared with them
    assert "B-" not in said  # ...and nothing of team B, by any intent
    assert "PRIVATE" not in said
    with Session(engine, expire_on_commit=False) as db:
        manager_a = db.get(Person, ids["manager.a"])
        digest = compose(db, load_content(), manager_a, now=NOW, min_group=5)
    assert "B-" not in "\n".join(digest.sections) and "PRIVATE" not in "\n".join(digest.sections)


def test_hr_gets_counts_only_and_employees_only_their_own(engine, runtime) -> None:
    ids = org(engine)
    hr = everything_said(runtime, ids["hr"])
    assert "SHARED" not in hr and "PRIVATE" not in hr
    assert "<5" in hr or "10" in hr  # the participation report answered, in numbers
    assert "B-STORY-CONSENTED" in hr and "ANSWER" not in hr and "FEEDBACK" not in hr
    employee = everything_said(runtime, ids["a1"])
    assert "A-PRIVATE-1" in employee  # their own export
    assert "A-PRIVATE-0" not in employee and "A-SHARED-0" not in employee and "B-" not in employee
    assert "FEEDBACK" not in employee and "ANSWER" not in employee and "STORY" not in employee
    assert "PULSE" not in employee  # 'my pulse' shows only one's own answers
    assert "A-PRIVATE-PULSE" in everything_said(runtime, ids["a0"])  # ...which a0 has
    refused = Transcript(runtime, ids["a1"])
    refused.send("participation")
    refused.expect(refused.t("report.not_allowed"))


def test_report_cells_are_suppressed_below_k(engine) -> None:
    ids = org(engine)
    with Session(engine) as db:
        for n in range(4):  # four people of team A reflect in November
            db.add(
                Answer(
                    person_id=ids[f"a{n}"],
                    dialog_id="reflection",
                    question_id="x",
                    text="t",
                    created_at=datetime(2026, 11, 3, tzinfo=UTC),
                )
            )
        db.add(
            Answer(
                person_id=ids["b0"],
                dialog_id="reflection",
                question_id="x",
                text="t",
                created_at=datetime(2026, 10, 3, tzinfo=UTC),
            )
        )
        db.commit()
        result = participation(db, start=date(2026, 1, 1), end=date(2026, 11, 30), min_group=5)
        cells = {(r.metric, r.period): result.cell(r) for r in result.rows}
        assert cells[("reflected", "2026-10")] == "<5"  # one person
        assert cells[("reflected", "2026-11")] == "10"  # the ten seeded answers, plus four
        result = participation(
            db, start=date(2026, 1, 1), end=date(2026, 11, 30), min_group=5, department="nowhere"
        )
        assert all(result.cell(r) == "<5" for r in result.rows)

"""The demo organisation: two teams, HR, a fresh Alex, some history, and safe to load twice."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.demo import DEMO_EMPLOYEE, DemoResult, load_demo
from dialogs.engine.content import load_content
from storage.models import PERSONAL_ITEM_TYPES, Answer, Experiment, Person, SharedItem

NOW = datetime(2025, 6, 16, 9, 0, tzinfo=UTC)


def _load(engine: Engine, now: datetime = NOW) -> DemoResult:
    with Session(engine) as db:
        result = load_demo(db, now=now)
        db.commit()
    return result


def _items(db: Session) -> list[SharedItem]:
    return [item for t in PERSONAL_ITEM_TYPES for item in db.exec(select(t))]


def test_demo_organisation_has_two_teams_hr_and_both_languages(engine: Engine) -> None:
    result = _load(engine)
    with Session(engine) as db:
        people = list(db.exec(select(Person)))
        assert result.people == result.created == len(people) >= 14
        assert all(p.email.endswith("@example.com") for p in people)
        roles = Counter(p.role for p in people)
        assert roles["hr"] == 1 and roles["manager"] == 2
        for manager in (p for p in people if p.role == "manager"):
            reports = [p for p in people if p.manager_id == manager.id]
            assert len(reports) >= 5
            assert len({p.department for p in reports}) == 1
        assert {p.language for p in people} == {"en", "nl"}
        assert {p.country for p in people} == {"NL", "GB", "US"}
        assert any(p.start_date and (NOW.date() - p.start_date).days <= 14 for p in people)
        assert any(not p.in_aggregates for p in people)
        assert all(p.welcomed_at is not None for p in people if p.email != DEMO_EMPLOYEE)


def test_alex_is_new_in_team_one_with_no_history(engine: Engine) -> None:
    _load(engine)
    with Session(engine) as db:
        alex = db.exec(select(Person).where(Person.email == DEMO_EMPLOYEE)).one()
        assert alex.welcomed_at is None and alex.role == "employee"
        manager = db.get(Person, alex.manager_id)
        assert manager is not None and manager.role == "manager"
        assert not [i for i in _items(db) if i.person_id == alex.id]


def test_history_is_mixed_shared_and_private_and_valid(engine: Engine) -> None:
    result = _load(engine)
    with Session(engine) as db:
        items = _items(db)
        assert result.items == len(items) > 50
        shared = sum(i.visibility == "manager" for i in items)
        assert 0.2 < shared / len(items) < 0.5
        assert all(i.visibility in ("manager", "private") for i in items)
        assert all(i.created_at < NOW for i in items)
        experiments = list(db.exec(select(Experiment)))
        assert {e.status for e in experiments} == {"planned", "doing", "done", "dropped"}
        for done in (e for e in experiments if e.status == "done"):
            assert done.done_at is not None and done.learned and done.keep_doing
        idea_ids = {i.id for i in load_content().ideas}
        assert all(e.idea_id in idea_ids for e in experiments if e.idea_id)
        content = load_content()
        for answer in db.exec(select(Answer)):
            question = content.question(answer.question_id)
            assert (answer.competency, answer.frame) == (question.competency, question.frame)
        hr = db.exec(select(Person).where(Person.role == "hr")).one()
        assert not [i for i in items if i.person_id == hr.id]
        owners = {p.id: p for p in db.exec(select(Person))}
        assert all(i.in_aggregates == owners[i.person_id].in_aggregates for i in items)


def test_loading_twice_adds_nothing(engine: Engine) -> None:
    first = _load(engine)
    second = _load(engine)
    assert second == DemoResult(people=first.people, created=0, items=0)
    with Session(engine) as db:
        assert len(list(db.exec(select(Person)))) == first.people
        assert len(_items(db)) == first.items
        emails = list(db.exec(select(Person.email).order_by(col(Person.email))))
        assert len(emails) == len(set(emails))


def test_history_stays_in_the_current_year_early_in_january(engine: Engine) -> None:
    now = datetime(2026, 1, 3, 12, 0, tzinfo=UTC)
    _load(engine, now)
    with Session(engine) as db:
        for experiment in db.exec(select(Experiment)):
            assert experiment.created_at.year == 2026
            assert experiment.done_at is None or experiment.done_at.year == 2026


def test_demo_shows_a_pending_feedback_request_and_a_story(engine: Engine) -> None:
    from storage.models import FeedbackAsk, FeedbackRequest, Story

    _load(engine)
    _load(engine)  # added once
    with Session(engine) as db:
        [request] = db.exec(select(FeedbackRequest)).all()
        states = sorted(a.state for a in db.exec(select(FeedbackAsk)))
        assert states == ["answered", "asked"] and request.visibility == "private"
        [story] = db.exec(select(Story)).all()
        assert story.for_hr and story.state == "shared" and story.title


def test_demo_shows_a_buddy_pair_a_growth_conversation_and_a_learning_record(
    engine: Engine,
) -> None:
    from storage.models import GrowthConversation, LearningEntry

    _load(engine)
    _load(engine)  # added once
    with Session(engine) as db:
        people = {p.email.split("@")[0]: p for p in db.exec(select(Person))}
        assert people["tom.visser"].buddy_id == people["daan.devries"].id
        [talk] = db.exec(select(GrowthConversation)).all()
        assert talk.person_id == people["olivia.brown"].id
        assert talk.manager_id == people["marieke.jansen"].id
        assert talk.planned_for > NOW.date() and talk.agenda_shared_at is not None
        entries = db.exec(select(LearningEntry)).all()
        assert {e.kind for e in entries} == {"course", "informal"}

"""Success stories: offered once after a reflection, previewed, shared only where chosen,
withdrawn at will; HR sees consented stories only, the manager none of it."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dialogs.engine.content import load_content
from dialogs.engine.dialog import DialogSettings
from dialogs.engine.runtime import Runtime
from dialogs.registry import DIALOGS
from storage.models import AuditEntry, Experiment, Person, PostState, Story, StoryState
from storage.personal_data import export_person, forget_person
from tests.dialogs.conftest import NOW, Clock, add_person
from tests.dialogs.transcript import Transcript


def rows(engine, model, *where):
    with Session(engine) as db:
        return list(db.exec(select(model).where(*where).order_by(col(model.id))))


def people(engine, lang: str) -> dict[str, int]:
    ids = {"manager": add_person(engine, "mia@example.com", name="Mia Manager", language=lang)}
    ids["sam"] = add_person(
        engine, "sam@example.com", name="Sam Smit", language=lang, manager_id=ids["manager"]
    )
    ids["hr"] = add_person(engine, "hr@example.com", name="Hanna HR", role="hr", language=lang)
    with Session(engine) as db:
        db.add(Experiment(person_id=ids["sam"], title="Shadow the help desk", status="doing"))
        db.commit()
    return ids


def reflect(tx: Transcript) -> int:
    """Sam marks the experiment done and reflects on it; returns its id."""
    [item] = rows(tx.runtime.engine, Experiment)
    tx.send("experiment")
    tx.choose("update")
    tx.choose(str(item.id))
    tx.choose("done")
    tx.send("Most questions are about the same three things")
    tx.send("Ask the help desk before building a form")
    tx.choose("private")  # the share offer for the manager comes first
    assert item.id is not None
    return item.id


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_share_a_story_with_hr_after_a_reflection(engine, runtime, lang: str) -> None:
    ids = people(engine, lang)
    sam = Transcript(runtime, ids["sam"])
    reflect(sam)
    sam.expect(sam.t("story.offer"))
    sam.choose("yes")
    sam.expect(sam.t("story.ask_title", title="Shadow the help desk"))
    sam.send("skip")
    sam.expect(sam.t("story.ask_tried"))
    sam.send("A morning at the help desk")
    sam.send("skip")  # what it taught: from the reflection
    # no stories channel configured: HR only (or never mind)
    assert [o.value for o in sam.prompt.options()] == ["hr", "none"]
    sam.choose("hr")
    expected = sam.t(
        "story.rendered",
        author="Sam Smit",
        title="Shadow the help desk",
        tried="A morning at the help desk",
        learned="Most questions are about the same three things",
    )
    sam.expect(sam.t("story.preview.hr"), expected, sam.t("story.ask_share"))
    sam.choose("yes")
    sam.expect(sam.t("story.shared.hr"))
    [story] = rows(engine, Story)
    assert (story.for_hr, story.in_channel, story.state, story.post_state) == (
        True,
        False,
        StoryState.SHARED,
        None,
    )

    # the manager sees nothing of it; HR sees exactly the preview, audited
    mia = Transcript(runtime, ids["manager"])
    mia.send("stories")
    mia.expect(mia.t("story.none_yet")).expect_not("help desk")
    hr = Transcript(runtime, ids["hr"])
    hr.send("stories")
    hr.choose("hr")
    hr.expect(
        hr.t(
            "story.rendered",
            author="Sam Smit",
            title="Shadow the help desk",
            tried="A morning at the help desk",
            learned="Most questions are about the same three things",
        )
    )
    [read] = rows(engine, AuditEntry, AuditEntry.action == "story_read")
    assert (read.actor_id, read.subject_id) == (ids["hr"], ids["sam"])

    # withdrawn: HR no longer sees it
    sam.send("stories")
    sam.expect("Shadow the help desk", sam.t("story.states.hr"))
    sam.choose("withdraw")
    sam.choose(str(story.id))
    sam.choose("yes")
    sam.expect(sam.t("story.withdrawn"))
    hr.send("stories")
    hr.choose("hr")
    hr.expect(hr.t("story.none_for_hr"))
    assert rows(engine, Story)[0].state == StoryState.WITHDRAWN


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_declining_the_offer_shares_nothing_and_it_is_not_offered_again(
    engine, runtime, lang: str
) -> None:
    ids = people(engine, lang)
    sam = Transcript(runtime, ids["sam"])
    reflect(sam)
    sam.choose("no")
    sam.expect(sam.t("story.no_problem"))
    assert not rows(engine, Story)
    # later, from "stories", by choice only
    sam.send("stories")
    sam.choose("write")
    [item] = rows(engine, Experiment)
    sam.choose(str(item.id))
    sam.expect(sam.t("story.ask_title", title="Shadow the help desk"))
    sam.send("stop")
    assert not rows(engine, Story)


@pytest.fixture
def channel_runtime(engine: Engine, clock: Clock) -> Runtime:
    return Runtime(
        engine,
        dialogs=DIALOGS,
        content=load_content(),
        clock=clock,
        settings=DialogSettings(stories_channel=True),
    )


def test_a_channel_story_is_posted_then_withdrawn_and_deleted(engine, channel_runtime) -> None:
    ids = people(engine, "en")
    sam = Transcript(channel_runtime, ids["sam"])
    reflect(sam)
    sam.choose("yes")
    sam.send("Help desk morning")
    sam.send("Listened in on calls")
    sam.send("Users want fewer forms")
    sam.choose("both")
    sam.expect(sam.t("story.preview.both"), "Help desk morning")
    sam.choose("yes")
    [story] = rows(engine, Story)
    assert story.for_hr and story.in_channel and story.post_state == PostState.PENDING
    with Session(engine) as db:  # what the poster records once the platform took it
        row = db.get(Story, story.id)
        assert row is not None
        row.post_state, row.post_channel = PostState.POSTED, "slack"
        row.post_ref = {"channel": "C1", "ts": "1.2"}
        db.add(row)
        db.commit()
    sam.send("stories")
    sam.choose("withdraw")
    sam.choose(str(story.id))
    sam.choose("yes")
    sam.expect(sam.t("story.withdrawn_posted"))
    assert rows(engine, Story)[0].post_state == PostState.DELETING


def test_forgetting_the_author_keeps_only_what_deleting_the_post_needs(engine, runtime) -> None:
    ids = people(engine, "en")
    with Session(engine) as db:
        for title, state in (("POSTED-STORY", PostState.POSTED), ("HR-STORY", None)):
            db.add(
                Story(
                    person_id=ids["sam"],
                    title=title,
                    tried="SECRET-TRIED",
                    learned="SECRET-LEARNED",
                    for_hr=True,
                    in_channel=state is not None,
                    post_state=state,
                    post_channel="slack" if state else None,
                    post_ref={"channel": "C1", "ts": "1.2"} if state else None,
                    created_at=NOW,
                )
            )
        db.commit()
        exported = export_person(db, db.get(Person, ids["sam"]), now=NOW)
        assert {s["title"] for s in exported["story"]} == {"POSTED-STORY", "HR-STORY"}
        forget_person(db, db.get(Person, ids["sam"]))
        db.commit()
    [left] = rows(engine, Story)
    assert left.person_id is None and left.post_state == PostState.DELETING
    assert left.post_ref == {"channel": "C1", "ts": "1.2"}
    assert "SECRET" not in f"{left.title}{left.tried}{left.learned}" and not left.for_hr

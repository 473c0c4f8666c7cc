"""A campaign step's "stories from colleagues": the newest stories their authors shared with HR,
under the step's text in each reader's language; never a withdrawn one, nor one shared only in
the channel; gone from queued messages when withdrawn or when the author is forgotten."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dialogs.campaigns.spec import parse
from dialogs.engine.replies import Offer, Say, reply_from_dict
from storage import stories
from storage.models import Outbound, Person, Role
from storage.outbox import ABOUT
from storage.personal_data import forget_person
from tests.dialogs.conftest import NOW, add_person
from tests.dialogs.test_campaign_spec import MINIMAL
from tests.dialogs.test_campaigns import LAUNCH, WEEK, launch_spec, rows

WITH_STORIES = WEEK.replace(
    "    actions: [interested, not_for_me, remind_tomorrow]\n",
    "    actions: [interested, not_for_me, remind_tomorrow]\n    stories: 2\n",
)


def story(engine: Engine, author: int, title: str, *, days_ago: int, for_hr: bool = True) -> int:
    with Session(engine) as db:
        person = db.get(Person, author)
        assert person is not None
        made = stories.create(
            db,
            author=person,
            experiment_id=None,
            title=title,
            tried=f"{title}: what I tried",
            learned=f"{title}: what it taught me",
            for_hr=for_hr,
            in_channel=not for_hr,
            now=NOW - timedelta(days=days_ago),
        )
        db.commit()
        assert made.id is not None
        return made.id


@pytest.fixture
def authors(engine: Engine) -> dict[str, int]:
    add_person(engine, "hr@example.com", name="Hanna Hr", role=Role.HR)
    names = ("Sam Smit", "Ana Ek", "Bo Berg", "Cy Cole")
    return {n.split()[0]: add_person(engine, f"{n[:2].lower()}@example.com", name=n) for n in names}


def kickoff_of(engine: Engine, person_id: int) -> Outbound:
    return next(r for r in rows(engine, "kickoff") if r.person_id == person_id)


def test_the_newest_consented_stories_go_under_the_step_in_each_language(
    engine: Engine, authors: dict[str, int]
) -> None:
    story(engine, authors["Sam"], "Help desk morning", days_ago=1)
    withdrawn = story(engine, authors["Ana"], "Withdrawn one", days_ago=0)
    story(engine, authors["Bo"], "Channel only", days_ago=0, for_hr=False)
    story(engine, authors["Cy"], "Lunch and learn", days_ago=5)
    story(engine, authors["Cy"], "Oldest one", days_ago=30)
    with Session(engine) as db:
        found = db.get(stories.Story, withdrawn)
        assert found is not None
        stories.withdraw(db, found, now=NOW)
        db.commit()
    dutch = add_person(engine, "nl@example.com", name="Noor Visser", language="nl")
    launch_spec(engine, parse(WITH_STORIES))

    message = kickoff_of(engine, dutch)
    first, told, *_ = (reply_from_dict(p) for p in message.payload)
    assert isinstance(first, Offer) and first.text.startswith("Hoi Noor, het is groeiweek!")
    assert isinstance(told, Say)
    assert told.text.startswith("Verhalen van collega’s:")
    assert "Help desk morning" in told.text and "Lunch and learn" in told.text
    assert told.text.index("Help desk morning") < told.text.index("Lunch and learn")  # newest
    for absent in ("Withdrawn one", "Channel only", "Oldest one"):  # and only two
        assert absent not in told.text
    assert message.payload[1][ABOUT] == sorted([authors["Sam"], authors["Cy"]])
    english = reply_from_dict(kickoff_of(engine, authors["Ana"]).payload[1])
    assert english.text.startswith("Stories from colleagues:")
    assert "Sam Smit tried: Help desk morning: what I tried" in english.text
    # a step without stories: its message alone
    assert all(len(r.payload) == 1 for r in rows(engine, "try"))


def test_no_stories_shared_the_step_text_alone(engine: Engine, authors: dict[str, int]) -> None:
    story(engine, authors["Bo"], "Channel only", days_ago=0, for_hr=False)
    launch_spec(engine, parse(WITH_STORIES))
    message = kickoff_of(engine, authors["Sam"])
    assert len(message.payload) == 1
    assert "Channel only" not in str(message.payload)


@pytest.mark.parametrize("how", ["withdrawn", "forgotten"])
def test_queued_messages_lose_the_stories_when_one_is_withdrawn_or_its_author_forgotten(
    engine: Engine, authors: dict[str, int], how: str
) -> None:
    sam_story = story(engine, authors["Sam"], "Help desk morning", days_ago=1)
    later = LAUNCH.replace(hour=0)  # the kickoff waits for 09:30 local
    launch_spec(engine, parse(WITH_STORIES), now=later)
    before = kickoff_of(engine, authors["Ana"])
    assert len(before.payload) == 2 and "Help desk morning" in before.payload[1]["text"]
    with Session(engine) as db:
        if how == "withdrawn":
            found = db.get(stories.Story, sam_story)
            assert found is not None
            stories.withdraw(db, found, now=NOW)
        else:
            forget_person(db, db.get_one(Person, authors["Sam"]))
        db.commit()
    after = kickoff_of(engine, authors["Ana"])
    assert len(after.payload) == 1
    assert "Help desk morning" not in str(after.payload)
    assert reply_from_dict(after.payload[0]).text.startswith("Hi Ana, it's growth week!")


def test_the_campaign_file_takes_one_to_three_stories() -> None:
    step = "    actions: [interested, not_for_me]\n"
    assert parse(MINIMAL.replace(step, step + "    stories: 3\n")).steps[0].stories == 3
    assert parse(MINIMAL).steps[0].stories == 0
    for wrong in ("0", "4", "many"):
        with pytest.raises(ValueError, match="stories"):
            parse(MINIMAL.replace(step, step + f"    stories: {wrong}\n"))

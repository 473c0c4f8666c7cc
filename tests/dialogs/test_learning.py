"""The learning record: courses, trainings, certificates and informal learning as entries of the
profile — private by default, a link only when it is http(s), shared with the manager only by
the one tap, counted (never named) for HR, and covered by export and deletion."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from dialogs.engine.content import load_content
from dialogs.nudges.digest import compose
from storage.learning import clean_link, learning_record
from storage.models import LearningEntry, Person, Visibility
from storage.personal_data import export_person, forget_person
from storage.reports import participation
from tests.dialogs.conftest import NOW, add_person
from tests.dialogs.transcript import Transcript

WORDS = {
    "en": ("learning", "Excel for reporting"),
    "nl": ("leerdossier", "Excel voor rapportages"),
}


def entries(engine: Engine, person_id: int) -> list[LearningEntry]:
    with Session(engine) as db:
        return learning_record(db, person_id)


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_adding_a_course_with_a_link_and_what_i_took_from_it(
    engine: Engine, chat: Callable[..., Transcript], lang: str
) -> None:
    manager = add_person(engine, "marieke@example.com", name="Marieke Jansen")
    tx = chat(lang, name="Sam Smit", manager_id=manager)
    word, title = WORDS[lang]
    tx.send(word)
    tx.expect(tx.t("learning.empty"))
    tx.choose("add")
    tx.expect(tx.t("learning.ask_kind"))
    tx.choose("course")
    tx.send(title)
    tx.expect(tx.t("learning.ask_date"))
    tx.send("2026-10-15")
    tx.expect(tx.t("learning.ask_link"))
    tx.send("javascript:alert(1)")
    tx.expect(tx.t("learning.bad_link"), tx.t("learning.ask_link"))
    tx.send("https://example.com/excel course")  # a space: not one address
    tx.expect(tx.t("learning.bad_link"))
    tx.send("https://example.com/excel")
    tx.expect(tx.t("learning.ask_takeaway"))
    tx.send("Pivot tables save me an hour a week")
    tx.expect(tx.t("learning.saved", title=title), tx.t("sharing.offer", manager="Marieke"))
    tx.choose("private")
    tx.expect(tx.t("sharing.kept"), tx.t("learning.list", count=1), title)
    [entry] = entries(engine, tx.person_id)
    assert (entry.kind, entry.title, entry.learned_on, entry.link) == (
        "course",
        title,
        date(2026, 10, 15),
        "https://example.com/excel",
    )
    assert entry.takeaway == "Pivot tables save me an hour a week"
    assert entry.visibility == Visibility.PRIVATE
    tx.choose("done")
    tx.expect(tx.t("learning.bye"))


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_informal_learning_without_date_or_link_and_removing_it(
    engine: Engine, chat: Callable[..., Transcript], lang: str
) -> None:
    tx = chat(lang)
    tx.send(WORDS[lang][0])
    tx.choose("add")
    tx.choose("informal")
    tx.expect(tx.t("learning.ask_title.informal"))
    tx.send("Shadowed Finance for a day")
    tx.send("2099-01-01")  # still to come: not learned yet
    tx.expect(tx.t("learning.date_in_future"))
    tx.send(tx.t("common.not_sure"))
    tx.send(tx.t("common.skip"))
    tx.send(tx.t("common.skip"))
    tx.expect(tx.t("learning.saved", title="Shadowed Finance for a day"))
    [entry] = entries(engine, tx.person_id)
    assert (entry.learned_on, entry.link, entry.takeaway) == (None, None, "")
    tx.choose("remove")
    tx.choose(str(entry.id))
    tx.expect(tx.t("learning.removed", title="Shadowed Finance for a day"), tx.t("learning.empty"))
    assert entries(engine, tx.person_id) == []


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_the_profile_counts_the_learning_record_and_opens_it(
    engine: Engine, chat: Callable[..., Transcript], lang: str
) -> None:
    tx = chat(lang)
    with Session(engine) as db:
        db.add(LearningEntry(person_id=tx.person_id, kind="certificate", title="Scrum Master"))
        db.commit()
    tx.send("profile")
    tx.expect(tx.t("learning.in_profile", count=1), tx.t("profile.actions.learning"))
    tx.choose("learning")
    tx.expect(tx.t("learning.list", count=1), "Scrum Master", tx.t("learning.kinds.certificate"))


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("https://example.com/a?b=1#c", "https://example.com/a?b=1#c"),
        ("  http://intranet.local/course  ", "http://intranet.local/course"),
        ("HTTPS://EXAMPLE.COM", "HTTPS://EXAMPLE.COM"),
        ("javascript:alert(1)", None),
        ("file:///etc/passwd", None),
        ("ftp://example.com/x", None),
        ("https://", None),
        ("example.com", None),
        ("https://exa mple.com", None),
        ("https://" + "a" * 600 + ".com", None),
        ("http://[::1", None),
    ],
)
def test_only_http_links_are_kept(typed: str, kept: str | None) -> None:
    assert clean_link(typed) == kept


def _org(engine: Engine, size: int) -> tuple[int, list[int]]:
    manager = add_person(engine, "boss@example.com", name="Bea Baas", role="manager")
    people = [
        add_person(engine, f"p{n}@example.com", name=f"P{n} Person", manager_id=manager)
        for n in range(size)
    ]
    return manager, people


def test_the_manager_sees_only_shared_entries(engine: Engine) -> None:
    manager, (first, second) = _org(engine, 2)
    with Session(engine) as db:
        db.add(
            LearningEntry(
                person_id=first,
                kind="training",
                title="SHARED-TRAINING",
                takeaway="SHARED-TAKEAWAY",
                visibility=Visibility.MANAGER,
                created_at=NOW - timedelta(days=1),
            )
        )
        db.add(
            LearningEntry(
                person_id=second,
                kind="course",
                title="PRIVATE-COURSE",
                created_at=NOW - timedelta(days=1),
            )
        )
        db.commit()
    with Session(engine, expire_on_commit=False) as db:
        boss = db.get(Person, manager)
        digest = compose(db, load_content(), boss, now=NOW, min_group=5)
    text = "\n".join(digest.sections)
    assert "SHARED-TRAINING" in text and "SHARED-TAKEAWAY" in text
    assert "PRIVATE-COURSE" not in text


def test_hr_sees_counts_per_kind_over_k_people_only_and_never_titles(engine: Engine) -> None:
    _, people = _org(engine, 6)
    with Session(engine) as db:
        for n, person_id in enumerate(people):
            db.add(
                LearningEntry(
                    person_id=person_id,
                    kind="course",
                    title=f"SECRET-TITLE-{n}",
                    created_at=NOW - timedelta(days=3),
                )
            )
        db.add(  # one certificate: a count of one would single someone out
            LearningEntry(
                person_id=people[0],
                kind="certificate",
                title="SECRET-CERT",
                created_at=NOW - timedelta(days=3),
            )
        )
        db.add(  # one person who does not allow counts: not in any figure
            LearningEntry(
                person_id=people[1],
                kind="informal",
                title="SECRET-INFORMAL",
                in_aggregates=False,
                created_at=NOW - timedelta(days=3),
            )
        )
        db.commit()
        report = participation(db, start=date(2026, 11, 1), end=date(2026, 11, 30), min_group=5)
    rows = {row.metric: report.cell(row) for row in report.rows}
    assert rows["learning_course"] == "6"
    assert rows["learning_certificate"] == "<5"
    assert rows["learning_informal"] == "0"
    assert rows["learning_training"] == "0"
    assert "SECRET" not in repr(report)


def test_export_has_the_record_and_forget_removes_it(engine: Engine) -> None:
    person = add_person(engine, "sam@example.com")
    with Session(engine) as db:
        db.add(
            LearningEntry(
                person_id=person,
                kind="course",
                title="Negotiation basics",
                learned_on=date(2026, 5, 1),
                link="https://example.com/n",
                takeaway="Listen first",
                created_at=datetime(2026, 5, 2, tzinfo=UTC),
            )
        )
        db.commit()
    with Session(engine) as db:
        someone = db.get(Person, person)
        exported = export_person(db, someone, now=NOW)
        [entry] = exported["learning_entry"]
        assert (entry["title"], entry["learned_on"], entry["takeaway"]) == (
            "Negotiation basics",
            "2026-05-01",
            "Listen first",
        )
        forget_person(db, someone)
        db.commit()
    with Session(engine) as db:
        assert db.exec(select(LearningEntry)).all() == []

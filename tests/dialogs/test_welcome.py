from __future__ import annotations

import pytest
from sqlmodel import Session, select

from storage.models import ConsentRecord, Person
from tests.dialogs.transcript import Transcript


def person_row(tx: Transcript) -> Person:
    with Session(tx.runtime.engine) as db:
        person = db.get(Person, tx.person_id)
        assert person is not None
        return person


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_first_contact_explains_privacy_and_asks_preferences(chat, lang: str) -> None:
    tx = chat(lang, welcomed=False, name="Noor de Vries")
    tx.send("hello")
    tx.expect(
        tx.t("welcome.hello", greeting=tx.t("greetings.morning"), name="Noor").splitlines()[0],
        tx.t("welcome.privacy", min_group=5).splitlines()[1],
        tx.t("preferences.language"),
    )
    assert "5" in tx.text  # the minimum group size is stated
    tx.choose(lang)
    tx.expect(tx.t("preferences.language_set"), "Europe/Amsterdam", "10:30")
    tx.send("nee" if lang == "nl" else "no")
    tx.expect(tx.t("preferences.timezone_ask"))
    tx.send("Atlantis")
    tx.expect(tx.t("preferences.timezone_unknown"), tx.t("preferences.timezone_ask"))
    tx.send("london")
    tx.expect("Europe/London", "09:30", tx.t("preferences.nudges"))
    tx.send("3")  # by number: monthly
    tx.expect(tx.t("preferences.nudges_set.monthly"), tx.t("welcome.done"))
    assert tx.prompt.kind == "choice"  # straight into the menu

    person = person_row(tx)
    assert person.welcomed_at is not None
    assert (person.language, person.timezone, person.nudge_frequency) == (
        lang,
        "Europe/London",
        "monthly",
    )
    with Session(tx.runtime.engine) as db:
        consent = db.exec(
            select(ConsentRecord).where(ConsentRecord.person_id == tx.person_id)
        ).one()
    assert consent.kind == "privacy_notice" and consent.granted


def test_switching_language_during_welcome_speaks_the_new_language(chat) -> None:
    tx = chat("en", welcomed=False)
    tx.send("hi")
    tx.send("Nederlands")  # by label
    assert person_row(tx).language == "nl"
    tx.expect(tx.t("preferences.language_set"))  # now in Dutch
    assert "Nederlands" in tx.t("preferences.language_names.nl")


def test_welcome_is_shown_once_even_if_stopped(chat) -> None:
    tx = chat("en", welcomed=False)
    tx.send("hi")
    tx.send("stop")
    tx.expect(tx.t("runtime.cancelled"))
    tx.send("hi")
    tx.expect_not("I'm Regie")
    tx.expect(tx.t("menu.options.reflection"))


def test_settings_change_language_and_rhythm(chat) -> None:
    tx = chat("en")
    tx.send("settings")
    tx.expect("Every two weeks", "Europe/Amsterdam")
    tx.choose("nudges")
    tx.choose("weekly")
    tx.expect(tx.t("preferences.nudges_set.weekly"))
    tx.choose("language")
    tx.choose("nl")
    tx.expect("Elke week")  # the overview is now in Dutch
    tx.choose("done")
    person = person_row(tx)
    assert (person.language, person.nudge_frequency) == ("nl", "weekly")


def test_settings_choose_the_day_and_time_of_nudges(chat) -> None:
    tx = chat("nl")
    tx.send("instellingen")
    tx.expect("Elke werkdag, 09:30")
    tx.choose("weekday")
    tx.choose("1")
    tx.choose("08:30")
    tx.expect(tx.t("settings.when_set", when="dinsdag, 08:30"))
    person = person_row(tx)
    assert (person.nudge_weekday, person.nudge_time) == (1, "08:30")

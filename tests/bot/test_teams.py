"""The Teams channel through the real botbuilder CloudAdapter over HTTP (unauthenticated mode),
replying to a fake Bot Framework connector (which refuses any activity over 28 KB); every card
and activity checked against the official schemas."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from dialogs.engine.replies import ConfirmPrompt, Say
from storage.addresses import address_of
from storage.models import Experiment, Person
from tests.bot.conftest import TeamsWorld
from tests.bot.hostile import HOSTILE, assert_no_link_in_card, share_hostile_experiment
from tests.bot.teams_harness import action, card_of, card_text, run, shown, with_input
from tests.schema_validators import activity_errors, card_errors

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # a Tuesday, 11:00 in Amsterdam


@pytest.fixture(autouse=True)
def fixed_clock(teams_world: TeamsWorld) -> None:
    """Turns happen at NOW, whatever the day the suite runs (on New Year's Eve after 23:00 UTC,
    "experiments done this year" would otherwise straddle two years)."""
    teams_world.bot.runtime.clock = lambda: NOW


def noor(engine) -> Person:
    with Session(engine) as db:
        return db.exec(select(Person).where(Person.teams_aad_id == "aad-noor")).one()


def assert_valid(world) -> None:
    for activity in world.connector.sent + world.connector.updates:
        clean = {k: v for k, v in activity.items() if not k.startswith("_")}
        assert activity_errors(clean) == [], clean
        for attachment in clean.get("attachments") or []:
            assert card_errors(attachment["content"]) == []


def test_install_welcome_experiment_by_cards_and_a_proactive_message(teams_world) -> None:
    world, teams = teams_world, teams_world.teams
    world.connector.members["29:noor"] = {
        "id": "29:noor",
        "name": "Noor Jansen",
        "aadObjectId": "aad-noor",
        "email": "noor@example.com",
        "userPrincipalName": "noor@example.com",
    }
    assert teams.install() in (200, 201)
    welcome = teams.next_sent()
    assert welcome["_conversation"] == "a:personal-noor"
    card = card_of(welcome)
    assert "I'm Regie" in card_text(card) and "private to you by default" in card_text(card)
    assert "text" not in welcome  # the card alone: no text bubble above it saying the same
    assert "Which language" in welcome["summary"]  # the notification's preview
    person = noor(world.engine)
    assert (person.email, person.name, person.timezone) == (
        "noor@example.com",
        "Noor Jansen",
        "Europe/Amsterdam",
    )
    assert (
        address_of(Session(world.engine), person.id, "teams")["conversation"]["id"]
        == "a:personal-noor"
    )

    teams.post(
        teams.activity(type="installationUpdate", action="add")
    )  # Teams sends both on install
    teams.submit(welcome, action(card, "en"))
    update = world.connector.wait_updates()[0]
    assert update["_activity_id"] == welcome["_id"]
    settled = card_of(update)
    assert "✓ English" in card_text(settled) and "actions" not in settled  # no dangling inputs
    # Teams replaces the whole message: the settled card still says what it said
    assert "I'm Regie" in card_text(settled) and "private to you by default" in card_text(settled)
    timezone = teams.next_sent()
    assert "Which language" not in shown(timezone)  # the installationUpdate did not welcome twice
    teams.submit(timezone, action(card_of(timezone), "yes"))
    nudges = teams.next_sent()
    teams.submit(nudges, action(card_of(nudges), "biweekly"))
    menu = teams.next_sent()
    menu_card = card_of(menu)
    assert any(item["type"] == "Input.ChoiceSet" for item in menu_card["body"])
    teams.submit(menu, with_input(menu_card, "experiment"))

    source = teams.next_sent()
    teams.submit(source, action(card_of(source), "own"))
    title = teams.next_sent()
    assert any(item["type"] == "Input.Text" for item in card_of(title)["body"])
    teams.say("Shadow a colleague at **sales** [link](http://x)")
    why = teams.next_sent()
    assert r"\*\*sales\*\* \[link\](http://x)" in card_text(card_of(why))  # escaped markdown
    teams.submit(why, with_input(card_of(why), "To learn how they sell"))
    when = teams.next_sent()
    assert any(item["type"] == "Input.Date" for item in card_of(when)["body"])
    teams.submit(when, with_input(card_of(when), "2099-03-01"))
    saved = teams.next_sent()
    assert "1 Mar 2099" in shown(saved) and "0/3" in shown(saved)

    teams.say("experiment")
    overview = teams.next_sent()
    teams.submit(overview, action(card_of(overview), "update"))
    which = teams.next_sent()
    with Session(world.engine) as db:
        experiment_id = str(db.exec(select(Experiment)).one().id)
    teams.submit(which, action(card_of(which), experiment_id))
    status = teams.next_sent()
    teams.submit(status, action(card_of(status), "done"))
    learned = teams.next_sent()
    assert card_of(learned)["body"][-1].get("isMultiline") is True
    teams.submit(learned, with_input(card_of(learned), "Selling is listening"))
    keep = teams.next_sent()
    teams.submit(keep, action(card_of(keep), None))  # skip
    done = teams.next_sent()
    assert "1/3" in shown(done)
    with Session(world.engine) as db:
        experiment = db.exec(select(Experiment)).one()
        assert (experiment.status, experiment.learned) == ("done", "Selling is listening")

    delivery = run(world.server.loop, world.bot.notify(person.id, [Say("Time for a check-in? 🌱")]))
    assert delivery.ok
    proactive = world.connector.sent[-1]
    assert proactive["text"] == "Time for a check-in? 🌱"
    assert proactive["_conversation"] == "a:personal-noor"
    assert_valid(world)


def test_a_stale_submit_is_answered_politely_and_changes_nothing(teams_world) -> None:
    world, teams = teams_world, teams_world.teams
    teams.say("hi")
    welcome = teams.next_sent()
    teams.submit(welcome, action(card_of(welcome), "en"))
    teams.next_sent()
    teams.submit(welcome, action(card_of(welcome), "nl"), activity_id="old-card")
    stale = teams.next_sent()
    assert "already answered" in shown(stale)
    closed = world.connector.wait_updates(2)[1]
    assert closed["_activity_id"] == "old-card" and "This question has closed." in card_text(
        card_of(closed)
    )
    assert noor(world.engine).language == "en"
    assert_valid(world)


def test_an_unknown_user_is_enrolled_from_the_activity_and_messages_are_deduplicated(
    teams_world,
) -> None:
    world, teams = teams_world, teams_world.teams
    teams.locale, teams.timezone = "nl-NL", "Europe/Brussels"
    teams.user = {"id": "29:sem", "name": "Sem Peeters", "aadObjectId": "aad-sem"}
    first = teams.activity(text="hallo")
    teams.post(first)
    dutch = teams.next_sent()
    assert "Regie" in card_text(card_of(dutch))
    teams.post(first)  # the same activity id again
    with Session(world.engine) as db:
        sem = db.exec(select(Person).where(Person.teams_aad_id == "aad-sem")).one()
    assert (sem.name, sem.language, sem.timezone) == ("Sem Peeters", "nl", "Europe/Brussels")
    assert sem.email.endswith("@teams.invalid")  # no roster e-mail: enrolled all the same
    teams.say("hulp")
    teams.next_sent()
    assert len(world.connector.sent) == 2
    assert_valid(world)


def test_an_imported_person_is_matched_by_email(teams_world) -> None:
    world, teams = teams_world, teams_world.teams
    with Session(world.engine) as db:
        db.add(Person(email="noor@example.com", name="Noor (imported)", language="nl"))
        db.commit()
    world.connector.members["29:noor"] = {
        "id": "29:noor",
        "name": "Noor Jansen",
        "email": "NOOR@example.com",
    }
    teams.say("hi")
    teams.next_sent()
    person = noor(world.engine)
    assert (person.email, person.name, person.language) == (
        "noor@example.com",
        "Noor (imported)",
        "nl",
    )


def test_a_person_without_a_reference_is_not_reachable_yet(teams_world) -> None:
    world = teams_world
    with Session(world.engine) as db:
        person = Person(email="far@example.com", name="Far Away")
        db.add(person)
        db.commit()
        person_id = person.id
    delivery = run(world.server.loop, world.bot.notify(person_id, [Say("hello")]))
    assert (delivery.ok, delivery.error) == (False, "not reachable in Teams yet")


def test_group_chats_and_other_activities_are_ignored(teams_world) -> None:
    world, teams = teams_world, teams_world.teams
    # The adapter answers the HTTP request only once the bot's turn has finished (CloudAdapter
    # awaits on_turn), so each answer below is the signal that its activity was fully handled.
    status = teams.post(
        teams.activity(text="hi", conversation={"id": "19:group", "conversationType": "groupChat"})
    )
    assert status in (200, 201)
    assert teams.post(teams.activity(type="typing")) in (200, 201)
    assert teams.post(
        teams.activity(type="messageReaction", reactionsAdded=[{"type": "like"}])
    ) in (200, 201)
    assert world.connector.sent == []
    with Session(world.engine) as db:
        assert db.exec(select(Person)).all() == []
    assert teams.say("hi") in (200, 201)  # the same words in the personal chat are answered
    [welcome] = world.connector.wait_sent(1)
    assert welcome["_conversation"] == "a:personal-noor"


# -- issue 15: Teams feels native --------------------------------------------------------------


def welcomed(engine, **fields) -> int:
    """Noor, imported and welcomed (no welcome in the way of what a test wants to see)."""
    with Session(engine) as db:
        person = Person(
            email="noor@example.com",
            name="Noor Jansen",
            teams_aad_id="aad-noor",
            welcomed_at=NOW,
            **fields,
        )
        db.add(person)
        db.commit()
        assert person.id is not None
        return person.id


def blocks_of(activity: dict) -> list[dict]:
    return [e for e in card_of(activity)["body"] if e["type"] == "TextBlock"]


def test_one_card_per_reply_with_its_lines_and_lists(teams_world) -> None:
    """Issue 15, items 1 and 2: the welcome is one activity (a card, no text bubble above it)
    whose privacy promise is a real list, and help keeps one line per command."""
    world, teams = teams_world, teams_world.teams
    assert teams.install() in (200, 201)
    welcome = teams.next_sent()
    assert len(world.connector.sent) == 1 and "text" not in welcome
    assert (
        welcome["summary"].startswith("Good") and "1. English 2. Nederlands" in welcome["summary"]
    )
    promise = next(b["text"] for b in blocks_of(welcome) if "private to you" in b["text"])
    items = promise.split("\r")
    assert len(items) == 4 and all(item.startswith("- ") for item in items)  # a real list
    intro = blocks_of(welcome)[0]["text"]
    assert "\n\n" in intro  # two lines stay two lines (a single "\n" is no break in a card)
    teams.submit(welcome, action(card_of(welcome), "en"))
    teams.next_sent()
    teams.say("help")
    help_card = teams.next_sent()
    commands = next(b["text"] for b in blocks_of(help_card) if b["text"].startswith("- "))
    assert commands.count("\r- ") >= 8 and "- reflect: a short reflection" in commands
    assert len(world.connector.sent) == 3  # one activity per reply, every time
    assert_valid(world)


def test_a_question_answered_by_typing_settles_its_card_keeping_its_text(teams_world) -> None:
    """Issue 15, items 4 and 6: typing the answer settles the card as a tap would; a turn that
    asks the same question again (help) leaves it open."""
    world, teams = teams_world, teams_world.teams
    teams.say("hi")
    welcome = teams.next_sent()
    teams.say("help")  # answered nothing: the question is asked again, its card stays open
    again = teams.next_sent()
    assert world.connector.updates == []
    teams.say("english")
    updates = world.connector.wait_updates(2)
    assert {u["_activity_id"] for u in updates} == {welcome["_id"], again["_id"]}  # both cards
    settled = card_of(next(u for u in updates if u["_activity_id"] == welcome["_id"]))
    assert "✓ English" in card_text(settled) and "I'm Regie" in card_text(settled)
    assert "actions" not in settled
    timezone = teams.next_sent()
    teams.say("reflect")  # not an answer to "is that your time zone?": that card closes
    closed = world.connector.wait_updates(3)[2]
    assert closed["_activity_id"] == timezone["_id"]
    assert "This question has closed." in card_text(card_of(closed))
    assert "Is that right?" in card_text(card_of(closed))  # and still says what it asked
    assert_valid(world)


def test_inputs_are_labelled_and_required_and_skipping_sends_none(teams_world) -> None:
    """Issue 15, item 6: a required answer cannot be sent empty (the client says why), and
    the skip button is not held up by it."""
    world, teams = teams_world, teams_world.teams
    welcomed(world.engine)
    teams.say("experiment")
    source = teams.next_sent()
    teams.submit(source, action(card_of(source), "own"))
    title = card_of(teams.next_sent())
    [text_input] = [e for e in title["body"] if e["type"] == "Input.Text"]
    assert text_input["isRequired"] is True
    assert text_input["label"] == "Your answer" and text_input["errorMessage"]
    teams.say("checkin")
    energy = teams.next_sent()
    teams.submit(energy, action(card_of(energy), 4))
    step = card_of(teams.next_sent())  # "one next step?", which may be skipped
    [optional] = [e for e in step["body"] if e["type"] == "Input.Text"]
    assert "isRequired" not in optional
    skip = next(a for a in step["actions"] if a["data"].get("value", "") is None)
    assert skip["associatedInputs"] == "none"
    teams.say("menu")
    choose = card_of(teams.next_sent())
    [choice_set] = [e for e in choose["body"] if e["type"] == "Input.ChoiceSet"]
    assert choice_set["isRequired"] is True and choice_set["label"]
    assert_valid(world)


def test_deleting_everything_is_never_the_happy_path(teams_world) -> None:
    """Issue 15, item 6: "delete all my data" asks with the destructive style on yes."""
    world, teams = teams_world, teams_world.teams
    welcomed(world.engine)
    teams.say("privacy")
    overview = teams.next_sent()
    teams.submit(overview, with_input(card_of(overview), "delete"))
    confirm = card_of(teams.next_sent())
    styles = {a["data"]["value"]: a.get("style") for a in confirm["actions"]}
    assert "positive" not in styles.values()
    if not hasattr(ConfirmPrompt, "destructive"):
        pytest.skip("needs ConfirmPrompt.destructive from dialogs/engine (see the report)")
    assert styles == {"yes": "destructive", "no": None}


def test_the_welcome_proposes_the_time_zone_of_the_teams_client(teams_world) -> None:
    """Issue 15, item 8: an install without ``localTimezone`` but with a ``clientInfo`` entity;
    an imported person's default is replaced until they are welcomed."""
    world, teams = teams_world, teams_world.teams
    with Session(world.engine) as db:
        db.add(Person(email="noor@example.com", name="Noor", timezone="Europe/Amsterdam"))
        db.commit()
    world.connector.members["29:noor"] = {
        "id": "29:noor",
        "name": "Noor",
        "email": "noor@example.com",
    }
    install = teams.activity(type="conversationUpdate", membersAdded=[teams.user])
    install.pop("localTimezone")
    install["entities"] = [{"type": "clientInfo", "locale": "en-US", "timezone": "Asia/Tokyo"}]
    assert teams.post(install) in (200, 201)
    welcome = teams.next_sent()
    assert noor(world.engine).timezone == "Asia/Tokyo"
    teams.submit(welcome, action(card_of(welcome), "en"))
    assert "I have your time zone as Asia/Tokyo" in shown(teams.next_sent())
    with Session(world.engine) as db:  # once welcomed, the client no longer decides
        person = db.exec(select(Person)).one()
        person.welcomed_at = NOW
        db.add(person)
        db.commit()
    teams.install(localTimezone="America/New_York")
    assert noor(world.engine).timezone == "Asia/Tokyo"


def test_hostile_text_shared_into_a_digest_renders_no_link(teams_world) -> None:
    """Issue 15, item 3: what a person wrote reaches their manager as text, never markup."""
    world, teams = teams_world, teams_world.teams
    manager = welcomed(world.engine)
    share_hostile_experiment(world.engine, manager)
    teams.say("my team")
    digest = teams.next_sent()
    assert_no_link_in_card(card_of(digest))
    assert HOSTILE in shown(digest)
    assert_valid(world)

"""The Teams channel through the real botbuilder CloudAdapter over HTTP (unauthenticated mode),
replying to a fake Bot Framework connector (which refuses any activity over 28 KB); every card
and activity checked against the official schemas."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from botbuilder.core import TurnContext
from sqlalchemy import event
from sqlmodel import Session, select

from dialogs.engine.replies import ConfirmPrompt, Say
from storage import teams_cards
from storage.addresses import address_of
from storage.db import session_scope
from storage.models import CheckIn, Experiment, Person
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


# -- issue 15, item 7: Universal Actions ---------------------------------------------------------


def cards_deleted_by_retention(engine) -> None:
    with session_scope(engine) as db:
        assert teams_cards.prune(db, before=datetime(2100, 1, 1, tzinfo=UTC)) > 0


def check_ins(engine) -> list[CheckIn]:
    with Session(engine) as db:
        return list(db.exec(select(CheckIn)).all())


def fallback(card: dict, value) -> dict:
    """The data of the ``Action.Submit`` an older client shows instead of the button."""
    for candidate in card["actions"]:
        if "value" in candidate["data"] and candidate["data"]["value"] == value:
            return dict(candidate["fallback"]["data"])
    raise AssertionError(f"no button for {value!r}")


def test_a_press_by_action_execute_settles_the_card_in_place_and_stores_once(teams_world) -> None:
    """The pressed card comes back settled in the invoke response (what it said, and the
    answer); the next question is one new message; the same invoke delivered again is answered
    the same and stores nothing more."""
    world, teams = teams_world, teams_world.teams
    welcomed(world.engine)
    teams.say("checkin")
    energy = teams.next_sent()
    card = card_of(energy)
    assert card["refresh"]["userIds"] == ["29:noor"]
    assert card["refresh"]["action"]["verb"] == "refresh"
    assert {a["type"] for a in card["actions"]} == {"Action.Execute"}
    in_place = teams.execute(energy, action(card, 4))
    assert card_errors(in_place) == [] and "actions" not in in_place and "refresh" not in in_place
    assert "✓ 4" in card_text(in_place) and "energy" in card_text(in_place).lower()
    step = teams.next_sent()
    assert "next step" in shown(step).lower()
    press = teams.execute_activity(step, with_input(card_of(step), "Call Sam"))
    answered = teams.invoke(press)
    assert "✓ Call Sam" in card_text(answered["value"])
    after = teams.next_sent()  # what follows the saved check-in, one message
    [saved] = check_ins(world.engine)
    assert (saved.energy, saved.next_step) == (4, "Call Sam")

    assert teams.invoke(press) == answered  # Teams delivers the same invoke again
    assert len(check_ins(world.engine)) == 1
    assert world.connector.sent[-1] is after  # nothing new was said
    assert world.connector.updates == []  # each card was answered in place, none updated
    assert_valid(world)


def test_an_older_client_presses_the_action_submit_fallback(teams_world) -> None:
    """The same data through ``Action.Submit``: the same turn, the card updated in the chat."""
    world, teams = teams_world, teams_world.teams
    welcomed(world.engine)
    teams.say("checkin")
    energy = teams.next_sent()
    teams.submit(energy, fallback(card_of(energy), 2))
    [update] = world.connector.wait_updates(1)
    assert update["_activity_id"] == energy["_id"] and "✓ 2" in card_text(card_of(update))
    step = teams.next_sent()
    teams.submit(step, fallback(card_of(step), None))  # skip
    teams.next_sent()
    [saved] = check_ins(world.engine)
    assert (saved.energy, saved.next_step) == (2, "")
    assert_valid(world)


def test_a_stale_press_is_answered_with_the_settled_card_and_runs_nothing(teams_world) -> None:
    world, teams = teams_world, teams_world.teams
    teams.say("hi")
    welcome = teams.next_sent()
    teams.say("english")  # answered by typing: the card is settled in the chat
    timezone = teams.next_sent()
    [settled] = world.connector.wait_updates(1)
    sent = len(world.connector.sent)

    in_place = teams.execute(welcome, action(card_of(welcome), "nl"))  # a client showing it open
    assert in_place == card_of(settled) and "✓ English" in card_text(in_place)
    assert len(world.connector.sent) == sent  # nothing said, nothing asked again
    assert noor(world.engine).language == "en"

    cards_deleted_by_retention(world.engine)  # the card is no longer known
    in_place = teams.execute(welcome, action(card_of(welcome), "nl"))
    assert "This question has closed." in card_text(in_place)
    assert "Which language" in card_text(in_place)  # still says what it asked
    again = teams.next_sent()  # the runtime found it stale: said so, and the open question
    assert "already answered" in shown(again) and "time zone" in shown(again)
    assert card_of(again)["actions"] == card_of(timezone)["actions"]
    assert noor(world.engine).language == "en"
    assert_valid(world)


def test_a_refresh_shows_an_open_card_as_it_is_and_an_answered_one_settled(teams_world) -> None:
    world, teams = teams_world, teams_world.teams
    teams.say("hi")
    welcome = teams.next_sent()
    assert teams.refresh(welcome) == card_of(welcome)  # still open: as it is
    teams.submit(welcome, action(card_of(welcome), "en"))
    timezone = teams.next_sent()
    [update] = world.connector.wait_updates(1)
    assert teams.refresh(welcome) == card_of(update)  # answered: as it now shows
    assert noor(world.engine).language == "en"

    commits: list[object] = []

    def committed(connection: object) -> None:
        commits.append(connection)

    event.listen(world.engine, "commit", committed)
    assert teams.refresh(timezone) == card_of(timezone)
    assert len(commits) == 1  # all a refresh reads, in one trip to the database
    event.remove(world.engine, "commit", committed)

    cards_deleted_by_retention(world.engine)  # nothing is known of either card
    closed = teams.refresh(welcome)
    assert "This question has closed." in card_text(closed) and "actions" not in closed
    rebuilt = teams.refresh(timezone)  # still open: asked again from the open question
    assert rebuilt["actions"] == card_of(timezone)["actions"]
    assert rebuilt["refresh"] == card_of(timezone)["refresh"]
    assert card_errors(rebuilt) == [] and card_errors(closed) == []
    assert len(world.connector.sent) == 2  # a refresh says nothing
    assert_valid(world)


def test_an_invoke_that_is_not_a_press_on_a_regie_card_is_refused(teams_world) -> None:
    world, teams = teams_world, teams_world.teams
    welcomed(world.engine)
    teams.say("checkin")
    energy = teams.next_sent()
    answer = teams.invoke(teams.execute_activity(energy, {"something": "else"}))
    assert answer["statusCode"] == 400 and answer["type"] == "application/vnd.microsoft.error"
    assert len(world.connector.sent) == 1 and check_ins(world.engine) == []


def test_a_turn_and_the_cards_it_settles_are_one_commit_before_the_reply(
    teams_world, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A typed answer: the turn and the card it settles are stored in one transaction, before
    the reply goes out, and the cards sent in one more; a press: its claim on the card, then
    the turn with the card settled, then the cards sent."""
    world, teams = teams_world, teams_world.teams
    person_id = welcomed(world.engine)
    teams.say("checkin")
    energy = teams.next_sent()
    commits: list[str] = []
    event.listen(world.engine, "commit", lambda _connection: commits.append("commit"))
    at_reply: list[tuple[int, bool]] = []
    send_activities = TurnContext.send_activities

    async def sending(context: TurnContext, activities: list) -> list:
        with Session(world.engine) as db:
            row = teams_cards.find(db, energy["_conversation"], energy["_id"])
            at_reply.append((len(db.exec(select(CheckIn)).all()), row is not None and row.settled))
        return await send_activities(context, activities)

    monkeypatch.setattr(TurnContext, "send_activities", sending)
    teams.say("4")
    step = teams.next_sent()
    assert "next step" in shown(step).lower()
    assert len(commits) == 2  # the turn with the settled card, then the card sent
    assert at_reply == [(0, True)]  # the energy card was settled before the reply went out
    settled = card_of(world.connector.wait_updates(1)[0])
    assert "✓ 4" in card_text(settled) and "energy" in card_text(settled).lower()
    with Session(world.engine) as db:
        asking = teams_cards.asking(db, person_id)
    assert [row.activity_id for row in asking] == [step["_id"]]

    commits.clear()
    teams.execute(step, with_input(card_of(step), "Call Sam"))
    assert len(commits) == 3  # the claim, the turn with the card settled, the cards sent
    [saved] = check_ins(world.engine)
    assert (saved.energy, saved.next_step) == (4, "Call Sam")

"""Teams cards across restarts and replicas (two bots, one database, each behind its own HTTP
server, both answering the same fake connector): a card is settled keeping its text wherever the
press lands, an open card refreshes as it was sent, and a press runs its turn once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.channels.teams.adapter import build_teams, messages_handler
from bot.channels.teams.bot import TeamsBot
from bot.config import Settings
from bot.server import build_web_app
from bot.wiring import build_runtime
from dialogs.engine.runtime import Handled
from dialogs.engine.turn import Turn
from storage.models import TeamsCard
from tests.bot.conftest import TeamsWorld
from tests.bot.slack_harness import WebServer
from tests.bot.teams_harness import TeamsClient, action, card_of, card_text, shown, with_input
from tests.bot.test_teams import NOW, check_ins, welcomed


@pytest.fixture(autouse=True)
def fixed_clock(teams_world: TeamsWorld) -> None:
    teams_world.bot.runtime.clock = lambda: NOW


@dataclass
class Replica:
    bot: TeamsBot
    teams: TeamsClient


@contextmanager
def another_replica(world: TeamsWorld) -> Iterator[Replica]:
    """A second process on the same database (or the first one, restarted): nothing in memory."""
    settings = Settings(_env_file=None, teams_allow_unauthenticated=True)  # type: ignore[call-arg]
    bot = build_teams(build_runtime(settings, world.engine), world.engine, settings)
    bot.runtime.clock = lambda: NOW
    web_app = build_web_app(
        channels={"teams": True}, routes={"/api/messages": messages_handler(bot)}
    )
    server = WebServer(web_app).start()
    try:
        # its own activity ids, the same user and chat
        yield Replica(bot, TeamsClient(server.url, world.connector, counter=1000))
    finally:
        server.stop()


def test_after_a_restart_a_press_settles_the_card_keeping_its_text(teams_world) -> None:
    world, teams = teams_world, teams_world.teams
    teams.say("hi")
    welcome = teams.next_sent()
    assert "I'm Regie" in shown(welcome)
    with another_replica(world) as restarted:
        in_place = restarted.teams.execute(welcome, action(card_of(welcome), "en"))
        # what it said, and the answer: not rebuilt from the question alone
        assert "I'm Regie" in card_text(in_place) and "private to you by default" in card_text(
            in_place
        )
        assert "✓ English" in card_text(in_place) and "actions" not in in_place
        timezone = teams.next_sent()
        assert "time zone" in shown(timezone)
        sent = len(world.connector.sent)
        # a stale press on the old process's card, and the same press again: the answer given
        assert teams.execute(welcome, action(card_of(welcome), "nl")) == in_place
        assert restarted.teams.execute(welcome, action(card_of(welcome), "nl")) == in_place
        assert len(world.connector.sent) == sent  # nothing run, nothing said
    with Session(world.engine) as db:
        stored = db.exec(select(TeamsCard).where(TeamsCard.activity_id == welcome["_id"])).one()
    assert stored.settled and stored.shown == in_place and stored.card == card_of(welcome)
    assert world.connector.updates == []


def test_after_a_restart_an_open_card_refreshes_as_sent_and_a_typed_answer_settles_it(
    teams_world,
) -> None:
    world, teams = teams_world, teams_world.teams
    teams.say("hi")
    welcome = teams.next_sent()
    with another_replica(world) as restarted:
        assert restarted.teams.refresh(welcome) == card_of(welcome)  # the whole card, open
        restarted.teams.say("english")  # typed, to the other process
        timezone = teams.next_sent()
        [update] = world.connector.wait_updates(1)
        assert update["_activity_id"] == welcome["_id"]
        settled = card_of(update)
        assert "I'm Regie" in card_text(settled) and "✓ English" in card_text(settled)
        assert "actions" not in settled
        assert teams.refresh(welcome) == settled  # the first process knows it settled
        assert teams.refresh(timezone) == card_of(timezone)  # and the new one, open
    assert len(world.connector.sent) == 2  # a refresh says nothing


def test_two_replicas_receiving_presses_on_one_card_at_once_run_the_turn_once(
    teams_world,
) -> None:
    """The first replica's turn is held until the second has answered: the second, pressed on
    the same card meanwhile (another button, and the same invoke delivered again), runs
    nothing and shows the card as the first settles it."""
    world, teams = teams_world, teams_world.teams
    welcomed(world.engine)
    teams.say("checkin")
    energy = teams.next_sent()
    card = card_of(energy)
    running, release = threading.Event(), threading.Event()
    first_handle = world.bot.runtime.handle_turn_and

    def held(turn: Turn, then: Any) -> tuple[Handled, Any]:
        running.set()
        assert release.wait(20)
        return first_handle(turn, then)

    world.bot.runtime.handle_turn_and = held
    press = teams.execute_activity(energy, action(card, 4))
    answers: list[dict[str, Any]] = []
    first = threading.Thread(target=lambda: answers.append(teams.invoke(press)))
    with another_replica(world) as second:
        ran_on_second: list[Turn] = []
        second_handle = second.bot.runtime.handle_turn_and

        def counted(turn: Turn, then: Any) -> tuple[Handled, Any]:
            ran_on_second.append(turn)
            return second_handle(turn, then)

        second.bot.runtime.handle_turn_and = counted  # type: ignore[method-assign]
        first.start()
        assert running.wait(20)
        other_button = second.teams.execute(energy, action(card, 2))
        redelivered = second.teams.invoke(press)
        release.set()
        first.join(20)
        assert ran_on_second == []
    [answered] = answers
    assert "✓ 4" in card_text(answered["value"]) and "energy" in card_text(answered["value"])
    assert other_button == answered["value"] == redelivered["value"]
    step = teams.next_sent()  # one next question, nothing "already answered"
    assert "next step" in shown(step).lower()
    assert len(world.connector.sent) == 2
    world.bot.runtime.handle_turn_and = first_handle
    teams.execute(step, with_input(card_of(step), "Call Sam"))
    teams.next_sent()
    [saved] = check_ins(world.engine)
    assert (saved.energy, saved.next_step) == (4, "Call Sam")

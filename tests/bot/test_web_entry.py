"""The way into the web app from the chat without typing: a button in Slack's App Home and a
command in the Teams menu, both sending the sign-in link through the same dialog as "web"."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, select

from bot.channels.teams.package import COMMANDS
from dialogs.engine.content import load_content
from storage.models import LinkPurpose, OneTimeLink, Person
from tests.bot.slack_harness import text_of
from tests.bot.test_slack import NOOR


def home_buttons(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        e["action_id"]: e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]
    }


def test_the_app_home_button_sends_the_sign_in_link_in_the_dm(slack_world) -> None:
    fake, slack, engine = slack_world.fake, slack_world.slack, slack_world.engine
    fake.users["U1"] = NOOR
    slack.event({"type": "app_home_opened", "user": "U1", "channel": "DU1", "tab": "home"})
    button = home_buttons(fake.wait_for("views.publish")[0]["view"])["regie:start:web"]
    assert button["text"]["text"] == "Open Regie on the web" and button["value"] == "web"
    with Session(engine) as db:
        noor = db.exec(select(Person)).one()
        noor.welcomed_at = noor.created_at
        db.add(noor)
        db.commit()
        noor_id = noor.id
    slack.interaction(
        {
            "type": "block_actions",
            "user": {"id": "U1"},
            "trigger_id": "t",
            "container": {"type": "view", "view_id": "V1"},
            "view": {"id": "V1", "type": "home"},
            "actions": [
                {
                    "type": "button",
                    "action_id": "regie:start:web",
                    "block_id": "regie:home",
                    "value": "web",
                    "action_ts": "3.3",
                }
            ],
        }
    )
    message = slack.next_message()
    assert message["channel"] == "U1"
    assert load_content().text("en", "web.link_ready") in text_of(message)
    urls = [
        e["url"]
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e.get("url")
    ]
    with Session(engine) as db:
        [link] = db.exec(select(OneTimeLink)).all()
    assert link.purpose == LinkPurpose.SIGN_IN and link.person_id == noor_id
    assert len(urls) == 1 and urls[0].startswith("http://localhost:3000/")  # REGIE_PUBLIC_URL
    fake.wait_for("views.publish", 2)  # home refreshed


@pytest.mark.parametrize("language", ["en", "nl"])
def test_the_teams_menu_offers_web_in_both_languages(language: str) -> None:
    [web] = [c for c in COMMANDS if c.intent == "web"]
    title = web.title if language == "en" else web.title_nl
    assert load_content().intents.get(title) == "web"
    assert web.description and web.description_nl != web.description

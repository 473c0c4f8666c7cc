"""App Home: opening the Home tab publishes "my development" (``dialogs/flows/home.py``), in
summaries that fit however much a person has; its buttons continue in the Messages tab."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import App
from sqlmodel import Session

from bot.channels.slack.blocks import home_view
from bot.channels.slack.turns import SlackTurns
from bot.wiring import policy
from dialogs.flows.home import build_summary
from storage.models import Person


def register(app: App, turns: SlackTurns) -> None:
    @app.event("app_home_opened")
    def on_home_opened(event: dict[str, Any]) -> None:
        if event.get("tab") == "home":
            publish_home(turns, event["user"])


def publish_home(turns: SlackTurns, user: str) -> None:
    person_id = turns.person(user)
    if person_id is None:
        return
    with Session(turns.engine) as db:
        person = db.get(Person, person_id)
        if person is None:
            turns.people.forget(user)
            return
        language = person.language
        today = turns.runtime.clock().astimezone(ZoneInfo(person.timezone)).date()
        summary = build_summary(
            db, turns.runtime.content, person, today=today, policy=policy(turns.settings)
        )
    view = home_view(summary, turns.translator(language))
    turns.call(turns.client.views_publish, user_id=user, view=view)

"""The pulse's first question as Slack and Teams show it, in English and Dutch: golden files
(``UPDATE_GOLDEN=1`` rewrites them; review the diff). The replies are the real dialog's, from
the runtime; only the prompt's reference (session id, step, seq) is fixed, as the database
assigns it."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.channels.slack.blocks import messages
from bot.channels.teams.cards import activities
from dialogs.campaigns.messages import action_intent
from dialogs.engine.content import load_content
from dialogs.engine.replies import Prompt, Reply, Say, ScalePrompt
from dialogs.engine.runtime import Runtime
from dialogs.engine.turn import Turn
from dialogs.registry import DIALOGS
from storage.models import Person
from tests.bot.test_teams_cards import USER
from tests.dialogs.conftest import NOW
from tests.dialogs.test_pulse import launched, org
from tests.schema_validators import card_errors

GOLDEN = Path(__file__).parent / "golden"


def first_question(engine: Engine, lang: str) -> list[Reply]:
    """What a person reads after pressing "Answer the pulse": the intro and question 1."""
    runtime = Runtime(engine, dialogs=DIALOGS, content=load_content(), clock=lambda: NOW)
    org(engine)
    campaign_id = launched(engine)
    with Session(engine) as db:
        person = db.exec(select(Person).where(Person.email == "sales0@example.com")).one()
        person.language = lang
        db.add(person)
        db.commit()
        assert person.id is not None
        person_id = person.id
    replies = runtime.handle(
        Turn(person_id=person_id, intent=action_intent(campaign_id, "invite", "pulse"))
    )
    # the reference the other golden files use (tests/bot/test_slack_blocks.py REF)
    return [
        replace(r, session_id=7, step="ask", seq=3) if isinstance(r, Prompt) else r for r in replies
    ]


def golden(path: Path, payload: Any) -> None:
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert payload == json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_the_first_pulse_question_on_slack_and_teams(engine: Engine, lang: str) -> None:
    replies = first_question(engine, lang)
    [intro, prompt] = replies
    assert isinstance(intro, Say) and isinstance(prompt, ScalePrompt)
    assert prompt.skip_label == load_content().text(lang, "pulse.skip")

    def t(key: str, **values: object) -> str:
        return load_content().text(lang, key, **values)

    slack = [{"text": m.text, "blocks": m.blocks} for m in messages(replies, t)]
    golden(GOLDEN / "slack" / f"pulse_first_{lang}.json", slack)
    teams = activities(replies, t, user=USER)
    golden(GOLDEN / "teams" / f"pulse_first_{lang}.json", teams)
    for activity in teams:
        for attachment in activity.get("attachments", []):
            assert card_errors(attachment["content"]) == []

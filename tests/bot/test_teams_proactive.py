"""Proactive Teams messages reuse their connector client: built once per service URL (and bot
app id and audience), not once per message — and every message still arrives, in the right
conversation, a failed one included when it is sent again."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from bot.channels.teams.proactive import ReusingCloudAdapter
from dialogs.engine.replies import Say
from storage.addresses import save_address
from storage.models import Person
from tests.bot.conftest import TeamsWorld
from tests.bot.teams_fake import FakeConnector
from tests.bot.teams_harness import run

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def reachable(world: TeamsWorld, name: str, service_url: str) -> int:
    """Someone the bot has a Teams conversation reference for, at ``service_url``."""
    with Session(world.engine) as db:
        person = Person(email=f"{name}@example.com", name=name, teams_aad_id=f"aad-{name}")
        db.add(person)
        db.flush()
        assert person.id is not None
        address = {
            "activityId": "a",
            "bot": {"id": "28:bot", "name": "Regie"},
            "user": {"id": f"29:{name}", "name": name, "aadObjectId": f"aad-{name}"},
            "conversation": {"id": f"a:{name}", "conversationType": "personal"},
            "channelId": "msteams",
            "serviceUrl": service_url,
        }
        save_address(db, person.id, "teams", address, now=NOW)
        db.commit()
        return person.id


def count_factories(adapter: ReusingCloudAdapter) -> list[Any]:
    """Every connector factory the SDK's authentication builds from now on."""
    built: list[Any] = []
    auth = adapter.bot_framework_authentication
    original = auth.create_connector_factory

    def create(claims: Any) -> Any:
        factory = original(claims)
        built.append(factory)
        return factory

    auth.create_connector_factory = create
    return built


def test_proactive_sends_reuse_one_client_per_service_url(teams_world: TeamsWorld) -> None:
    world = teams_world
    assert isinstance(world.bot.adapter, ReusingCloudAdapter)
    built = count_factories(world.bot.adapter)
    with FakeConnector() as elsewhere:  # a second region's service URL
        people = [reachable(world, name, world.connector.url) for name in ("ann", "bo")]
        far = reachable(world, "cy", elsewhere.url)
        world.connector.fail_next(500)
        results = [
            run(world.server.loop, world.bot.notify(person_id, [Say(f"Hello {n}")]))
            for n, person_id in enumerate([*people, *people, far])
        ]
        assert [r.ok for r in results] == [False, True, True, True, True]
        again = run(world.server.loop, world.bot.notify(people[0], [Say("Hello again")]))
        assert again.ok
        arrived = [(a["_conversation"], a["text"]) for a in world.connector.sent]
        far_arrived = [(a["_conversation"], a["text"]) for a in elsewhere.sent]
    assert arrived == [
        ("a:ann", "Hello 0"),  # answered 500: recorded by the fake as failed
        ("a:bo", "Hello 1"),
        ("a:ann", "Hello 2"),
        ("a:bo", "Hello 3"),
        ("a:ann", "Hello again"),
    ]
    assert [a.get("_status") for a in world.connector.sent] == [500, None, None, None, None]
    assert far_arrived == [("a:cy", "Hello 4")]
    assert len(built) == 2  # one per service URL, for six messages

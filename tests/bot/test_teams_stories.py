"""The stories channel in Teams: Regie added to a team stores where the team is (and forgets it
when removed); a story is posted there as a card by the scheduler's job, deleted when withdrawn
or when its author is forgotten; a team without the app is retried; a mention in a channel is
answered with the way to a personal chat; the setting is checked at start-up."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import pytest
from botbuilder.schema import ConversationReference
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.channels.slack.client import web_client
from bot.channels.slack.stories import SlackStories
from bot.channels.teams.adapter import build_adapter
from bot.channels.teams.stories import NOT_IN_TEAM, TeamsStories
from bot.config import Settings, SettingsError, TeamsChannel, load_settings
from bot.jobs import enqueue_due
from bot.story_posts import run
from bot.wiring import build_runtime
from dialogs.engine.content import load_content
from storage import stories
from storage.models import Person, PostState, ProcessedInbound, Story, StoryState, TeamsTeam
from storage.outbox import MAX_ATTEMPTS
from storage.personal_data import forget_person
from tests.bot.conftest import TeamsWorld, slack_settings
from tests.bot.slack_fake import FakeSlack
from tests.bot.teams_harness import BOT, card_of, card_text
from tests.bot.test_stories_channel import row, story_of
from tests.dialogs.conftest import NOW, add_person

CONTENT = load_content()
TEAM = "19:general-growth@thread.tacv2"
STORIES = "19:stories-corner@thread.tacv2"
GROUP = "71ed5b3a-1111-2222-3333-444455556666"
LINK = (
    "https://teams.microsoft.com/l/channel/19%3astories-corner%40thread.tacv2/Stories"
    f"?groupId={GROUP.upper()}&tenantId=72f988bf-86f1-41af-91ab-2d7cd011db47"
)
SETTINGS = Settings(_env_file=None, teams_allow_unauthenticated=True)  # type: ignore[call-arg]


def in_team(world: TeamsWorld, **fields: Any) -> dict[str, Any]:
    """An activity in the team's General channel, from Noor."""
    team = {"id": TEAM, "name": "Growth", "aadGroupId": GROUP}
    return (
        world.teams.activity(
            conversation={
                "id": TEAM,
                "conversationType": "channel",
                "isGroup": True,
                "tenantId": "tenant-1",
            },
            channelData={"team": team, "tenant": {"id": "tenant-1"}, "channel": {"id": TEAM}},
        )
        | fields
    )


def add_to_team(world: TeamsWorld) -> None:
    activity = in_team(world, type="conversationUpdate", membersAdded=[BOT])
    activity["channelData"]["eventType"] = "teamMemberAdded"
    assert world.teams.post(activity) in (200, 201)


def poster(world: TeamsWorld, channel: TeamsChannel | None = None) -> TeamsStories:
    return TeamsStories(
        build_adapter(SETTINGS), world.engine, channel or TeamsChannel(TEAM), app_id=""
    )


def teams_rows(engine: Engine) -> list[TeamsTeam]:
    with Session(engine) as db:
        return list(db.exec(select(TeamsTeam)))


def test_added_to_a_team_it_stores_where_the_team_is_and_forgets_it_when_removed(
    teams_world: TeamsWorld,
) -> None:
    world = teams_world
    add_to_team(world)
    [team] = teams_rows(world.engine)
    assert (team.team_id, team.aad_group_id, team.name) == (TEAM, GROUP, "Growth")
    conversation = ConversationReference().deserialize(team.reference).conversation
    assert (conversation.id, conversation.conversation_type) == (TEAM, "channel")
    assert (conversation.is_group, conversation.tenant_id) == (True, "tenant-1")
    assert team.reference["serviceUrl"] == world.connector.url
    assert "user" not in team.reference  # who added Regie is not kept
    assert "Noor" not in json.dumps(team.reference) and "aad-noor" not in json.dumps(team.reference)
    with Session(world.engine) as db:
        assert db.exec(select(Person)).all() == []  # nobody enrolled, nobody welcomed
    assert world.connector.sent == []

    removed = in_team(world, type="conversationUpdate", membersRemoved=[BOT])
    removed["channelData"]["eventType"] = "teamMemberRemoved"
    world.teams.post(removed)
    assert teams_rows(world.engine) == []

    world.teams.post(in_team(world, type="installationUpdate", action="add"))
    assert [t.team_id for t in teams_rows(world.engine)] == [TEAM]
    world.teams.post(in_team(world, type="installationUpdate", action="remove"))
    assert teams_rows(world.engine) == []

    add_to_team(world)
    deleted = in_team(world, type="conversationUpdate")
    deleted["channelData"]["eventType"] = "teamDeleted"
    world.teams.post(deleted)
    assert teams_rows(world.engine) == []


@pytest.mark.parametrize("locale", ["en-US", "nl-NL"])
def test_a_mention_in_a_channel_gets_the_way_to_a_personal_chat_and_is_not_stored(
    teams_world: TeamsWorld, locale: str, caplog: pytest.LogCaptureFixture
) -> None:
    world = teams_world
    add_to_team(world)
    thread = f"{TEAM};messageid=1700000000001"
    mention = in_team(world, text="<at>Regie</at> can you read my secret plans?", locale=locale)
    mention["conversation"]["id"] = thread
    with caplog.at_level(logging.DEBUG):
        assert world.teams.post(mention) in (200, 201)
    [answer] = world.connector.wait_sent(1)
    language = "nl" if locale.startswith("nl") else "en"
    assert answer["text"] == CONTENT.text(language, "teams_team.personal_only")
    assert answer["_conversation"] == thread and answer["_reply_to"] == mention["id"]
    with Session(world.engine) as db:
        assert db.exec(select(Person)).all() == []
        assert db.exec(select(ProcessedInbound)).all() == []  # never a turn
    assert "secret plans" not in caplog.text


def test_a_story_is_posted_as_a_card_then_withdrawn_and_deleted(
    teams_world: TeamsWorld, db_url: str
) -> None:
    world = teams_world
    add_to_team(world)
    world.connector.channels_with_app = {TEAM, STORIES}
    sam = add_person(world.engine, "sam@example.com", name="Sam Smit")
    story_id = story_of(world.engine, sam, title="**Help desk** [morning](https://x.example)")
    settings = SETTINGS.model_copy(update={"database_url": db_url, "stories_teams_channel": LINK})

    enqueue_due(settings, NOW)  # the scheduler's job
    [message] = world.connector.wait_sent(1)
    assert message["_conversation"] == STORIES and message["_reply_to"] is None
    card = card_of(message)
    text = card_text(card)
    assert "Sam Smit" in text and "Users want fewer forms" in text
    assert r"\*\*Help desk\*\* \[morning\](https://x.example)" in text  # stays text
    posted = row(world.engine, story_id)
    assert posted is not None and posted.post_state == PostState.POSTED
    assert posted.post_channel == "teams"
    assert posted.post_ref is not None and posted.post_ref["activities"] == [message["_id"]]
    assert posted.post_ref["reference"]["conversation"]["id"] == STORIES
    enqueue_due(settings, NOW + timedelta(minutes=1))
    assert len(world.connector.sent) == 1  # posted once

    with Session(world.engine) as db:
        stories.withdraw(db, db.get_one(Story, story_id), now=NOW)
        db.commit()
    enqueue_due(settings, NOW + timedelta(minutes=2))
    assert world.connector.deleted == [(STORIES, message["_id"])]
    gone = row(world.engine, story_id)
    assert gone is not None and gone.post_state == PostState.DELETED
    assert gone.state == StoryState.WITHDRAWN and gone.post_ref is None


def test_forgetting_the_author_deletes_the_posted_card(teams_world: TeamsWorld) -> None:
    world = teams_world
    add_to_team(world)
    sam = add_person(world.engine, "sam@example.com", name="Sam Smit")
    story_id = story_of(world.engine, sam)
    assert run(world.engine, poster(world), CONTENT, now=NOW).posted == 1
    [message] = world.connector.wait_sent(1)
    with Session(world.engine) as db:
        forget_person(db, db.get_one(Person, sam))
        db.commit()
    assert run(world.engine, poster(world), CONTENT, now=NOW).deleted == 1
    assert world.connector.deleted == [(TEAM, message["_id"])]
    assert row(world.engine, story_id) is None
    with Session(world.engine) as db:
        assert db.exec(select(Story)).all() == []


def test_a_team_without_the_app_is_tried_again_until_the_app_is_added(
    teams_world: TeamsWorld, caplog: pytest.LogCaptureFixture
) -> None:
    world = teams_world
    story_id = story_of(world.engine, add_person(world.engine, "sam@example.com"))
    with caplog.at_level(logging.INFO):
        assert run(world.engine, poster(world), CONTENT, now=NOW).posted == 0  # no team known
    waiting = row(world.engine, story_id)
    assert waiting is not None and waiting.post_state == PostState.PENDING
    assert waiting.post_error == NOT_IN_TEAM and waiting.post_after is not None
    assert "add the Teams app to the channel's team" in caplog.text
    assert world.connector.sent == []

    add_to_team(world)  # stored, but Teams says the app is not in the team (removed meanwhile)
    world.connector.channels_with_app = set()
    later = NOW + timedelta(hours=1)
    assert run(world.engine, poster(world), CONTENT, now=later).posted == 0
    waiting = row(world.engine, story_id)
    assert waiting is not None and waiting.post_state == PostState.PENDING
    assert (waiting.post_attempts, waiting.post_error) == (2, NOT_IN_TEAM)
    run(world.engine, poster(world), CONTENT, now=later + timedelta(seconds=5))  # backing off
    still = row(world.engine, story_id)
    assert still is not None and still.post_attempts == 2

    world.connector.channels_with_app = {TEAM}
    assert run(world.engine, poster(world), CONTENT, now=later + timedelta(hours=3)).posted == 1
    posted = row(world.engine, story_id)
    assert posted is not None and posted.post_state == PostState.POSTED
    assert posted.post_attempts == 0 and posted.post_error is None
    assert "Listened in on calls" not in caplog.text  # a story's text is never logged


def test_transient_failures_are_retried_then_given_up(teams_world: TeamsWorld) -> None:
    world = teams_world
    add_to_team(world)
    story_id = story_of(world.engine, add_person(world.engine, "sam@example.com"))
    now = NOW
    for _ in range(MAX_ATTEMPTS):
        world.connector.fail_next(500)
        run(world.engine, poster(world), CONTENT, now=now)
        now += timedelta(hours=3)  # past any backoff
    failed = row(world.engine, story_id)
    assert failed is not None and failed.post_state == PostState.FAILED
    assert (
        failed.post_error
        == f"gave up after {MAX_ATTEMPTS} attempts: Teams answered HTTP 500 ServiceError"
    )
    run(world.engine, poster(world), CONTENT, now=now)
    assert len(world.connector.sent) == MAX_ATTEMPTS


def posted_and_withdrawn(world: TeamsWorld, activity_id: str) -> int:
    author = add_person(world.engine, f"{activity_id}@example.com")
    story_id = story_of(world.engine, author)
    [team] = teams_rows(world.engine)
    with Session(world.engine) as db:
        ref = {"reference": team.reference, "activities": [activity_id]}
        stories.posted(db, story_id, channel="teams", ref=ref, now=NOW)
        stories.withdraw(db, db.get_one(Story, story_id), now=NOW)
        db.commit()
    return story_id


def test_a_card_already_gone_counts_as_deleted_and_one_not_ours_is_kept(
    teams_world: TeamsWorld,
) -> None:
    world = teams_world
    add_to_team(world)
    gone = posted_and_withdrawn(world, "somebody-deleted-it")  # 404
    run(world.engine, poster(world), CONTENT, now=NOW)
    deleted = row(world.engine, gone)
    assert deleted is not None and deleted.post_state == PostState.DELETED

    world.connector.others = {(TEAM, "noors-message")}
    theirs = posted_and_withdrawn(world, "noors-message")  # 403: not the bot's message
    run(world.engine, poster(world), CONTENT, now=NOW)
    kept = row(world.engine, theirs)
    assert kept is not None and kept.post_state == PostState.KEPT
    assert kept.post_error == "Teams answered HTTP 403 Forbidden"
    assert world.connector.deleted == []


def test_a_story_posted_on_slack_is_deleted_there_after_the_setting_moved_to_teams(
    teams_world: TeamsWorld,
) -> None:
    world = teams_world
    add_to_team(world)
    story_id = story_of(world.engine, add_person(world.engine, "sam@example.com"))
    with FakeSlack() as slack:
        slack.member_of = {"C0STORIES"}
        slack_poster = SlackStories(web_client(slack_settings(slack)), "C0STORIES")
        run(world.engine, slack_poster, CONTENT, now=NOW)
        [message] = slack.history["C0STORIES"]
        with Session(world.engine) as db:
            stories.withdraw(db, db.get_one(Story, story_id), now=NOW)
            db.commit()
        done = run(world.engine, poster(world), CONTENT, now=NOW, others=[slack_poster])
        assert done.deleted == 1
        assert slack.calls_to("chat.delete") == [{"channel": "C0STORIES", "ts": message["ts"]}]
    assert world.connector.sent == [] and world.connector.deleted == []


def test_the_setting_is_checked_at_start_up(db_url: str) -> None:
    base: dict[str, Any] = {"_env_file": None, "database_url": db_url}
    on = load_settings(**base, MICROSOFT_APP_ID="app-1", stories_teams_channel=f" {LINK} ")
    assert on.stories_teams == TeamsChannel(STORIES, GROUP)
    assert build_runtime(on).settings.stories_channel is True
    general = load_settings(**base, teams_allow_unauthenticated=True, stories_teams_channel=TEAM)
    assert general.stories_teams == TeamsChannel(TEAM)
    with pytest.raises(SettingsError) as named:
        load_settings(**base, MICROSOFT_APP_ID="app-1", stories_teams_channel="Stories")
    assert named.value.lines == [
        "REGIE_STORIES_TEAMS_CHANNEL=Stories: expected the channel's link (in Teams: the "
        "channel's ⋯ > Get link to channel) or a team's id like 19:…@thread.tacv2"
    ]
    with pytest.raises(SettingsError) as alone:
        load_settings(**base, stories_teams_channel=TEAM)
    assert alone.value.lines == [
        f"REGIE_STORIES_TEAMS_CHANNEL={TEAM}: a stories channel in Teams needs the Teams app: "
        "set MICROSOFT_APP_ID as well"
    ]
    with pytest.raises(SettingsError) as both:
        load_settings(
            **base,
            SLACK_BOT_TOKEN="xoxb-1",
            stories_slack_channel="C0STORIES",
            MICROSOFT_APP_ID="app-1",
            stories_teams_channel=TEAM,
        )
    assert both.value.lines == [
        f"REGIE_STORIES_TEAMS_CHANNEL={TEAM}: there is one stories channel: "
        "REGIE_STORIES_SLACK_CHANNEL is set as well"
    ]
    assert load_settings(**base, stories_teams_channel=" ").stories_teams is None

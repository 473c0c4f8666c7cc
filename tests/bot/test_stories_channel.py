"""The stories channel on Slack: a story its author chose to post is posted by the scheduler's
job, deleted when withdrawn or when its author is forgotten; failures are retried with backoff,
given up for good when Slack says so; the setting is checked at start-up."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.channels.slack.client import web_client
from bot.channels.slack.stories import SlackStories
from bot.config import Settings, SettingsError, load_settings
from bot.jobs import enqueue_due
from bot.senders import SendResult
from bot.story_posts import run
from bot.wiring import build_runtime
from dialogs.engine.content import load_content
from dialogs.engine.dialog import DialogSettings
from dialogs.engine.runtime import Runtime
from dialogs.registry import DIALOGS
from storage import stories
from storage.models import Person, PostState, Story, StoryState
from storage.outbox import MAX_ATTEMPTS
from storage.personal_data import forget_person
from tests.bot.conftest import slack_settings
from tests.bot.slack_fake import FakeSlack
from tests.dialogs.conftest import NOW, Clock, add_person
from tests.dialogs.test_stories import people, reflect
from tests.dialogs.transcript import Transcript

CHANNEL = "C0STORIES"
CONTENT = load_content()


def settings(fake: FakeSlack, db_url: str, **extra: Any) -> Settings:
    return slack_settings(fake, database_url=db_url, stories_slack_channel=CHANNEL, **extra)


def poster(fake: FakeSlack) -> SlackStories:
    return SlackStories(web_client(slack_settings(fake)), CHANNEL)


def story_of(engine: Engine, author: int, *, title: str = "Help desk morning") -> int:
    with Session(engine) as db:
        person = db.get(Person, author)
        assert person is not None
        made = stories.create(
            db,
            author=person,
            experiment_id=None,
            title=title,
            tried="Listened in on calls",
            learned="Users want fewer forms",
            for_hr=False,
            in_channel=True,
            now=NOW,
        )
        db.commit()
        assert made.id is not None
        return made.id


def row(engine: Engine, story_id: int) -> Story | None:
    with Session(engine) as db:
        return db.get(Story, story_id)


def in_channel(fake: FakeSlack) -> list[dict[str, Any]]:
    return list(fake.history.get(CHANNEL, []))


def test_a_story_is_posted_exactly_as_previewed_then_withdrawn_and_deleted(
    engine: Engine, db_url: str
) -> None:
    ids = people(engine, "en")
    runtime = Runtime(
        engine,
        dialogs=DIALOGS,
        content=CONTENT,
        clock=Clock(),
        settings=DialogSettings(stories_channel=True),
    )
    sam = Transcript(runtime, ids["sam"])
    reflect(sam)
    sam.choose("yes")
    sam.send("Help desk <!channel> morning")  # typed text never becomes a mention
    sam.send("Listened in on calls")
    sam.send("Users want fewer forms")
    sam.choose("channel")
    sam.expect(sam.t("story.preview.channel"))
    sam.choose("yes")
    [story] = stories.stories_of(Session(engine), ids["sam"])
    assert story.id is not None and story.post_state == PostState.PENDING

    with FakeSlack() as fake:
        fake.member_of = {CHANNEL}
        enqueue_due(settings(fake, db_url), NOW)  # the scheduler's job
        [message] = in_channel(fake)
        text = message["blocks"][0]["text"]["text"]
        assert "Sam Smit" in text and "Users want fewer forms" in text
        assert "&lt;!channel&gt;" in text and "<!channel>" not in message["text"]
        assert message["metadata"]["event_payload"] == {"story": story.id}
        posted = row(engine, story.id)
        assert posted is not None and posted.post_state == PostState.POSTED
        assert posted.post_ref == {"channel": CHANNEL, "ts": message["ts"]}

        enqueue_due(settings(fake, db_url), NOW + timedelta(minutes=1))  # fires again
        assert len(fake.calls_to("chat.postMessage")) == 1  # posted once

        sam.send("stories")
        sam.choose("withdraw")
        sam.choose(str(story.id))
        sam.choose("yes")
        sam.expect(sam.t("story.withdrawn_posted"))
        enqueue_due(settings(fake, db_url), NOW + timedelta(minutes=2))
        assert fake.calls_to("chat.delete") == [{"channel": CHANNEL, "ts": message["ts"]}]
        assert in_channel(fake) == []
        gone = row(engine, story.id)
        assert gone is not None and gone.post_state == PostState.DELETED
        assert gone.state == StoryState.WITHDRAWN and gone.post_ref is None
        enqueue_due(settings(fake, db_url), NOW + timedelta(minutes=3))
        assert len(fake.calls_to("chat.delete")) == 1


def test_not_in_the_channel_is_retried_with_backoff_until_the_app_is_invited(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    story_id = story_of(engine, add_person(engine, "sam@example.com", name="Sam Smit"))
    with FakeSlack() as fake, caplog.at_level(logging.INFO):
        fake.member_of = set()  # nobody invited the app yet
        done = run(engine, poster(fake), CONTENT, now=NOW)
        assert done.posted == 0 and in_channel(fake) == []
        waiting = row(engine, story_id)
        assert waiting is not None and waiting.post_state == PostState.PENDING
        assert waiting.post_attempts == 1 and waiting.post_error == "not_in_channel"
        assert waiting.post_after is not None and waiting.post_after > NOW
        assert "invite the app" in caplog.text
        run(engine, poster(fake), CONTENT, now=NOW + timedelta(seconds=5))  # backing off
        assert len(fake.calls_to("chat.postMessage")) == 1

        fake.member_of = {CHANNEL}
        assert run(engine, poster(fake), CONTENT, now=NOW + timedelta(hours=1)).posted == 1
        assert len(in_channel(fake)) == 1
        posted = row(engine, story_id)
        assert posted is not None and posted.post_state == PostState.POSTED
        assert posted.post_attempts == 0 and posted.post_error is None
    assert "Listened in on calls" not in caplog.text  # a story's text is never logged


def test_transient_failures_give_up_after_the_outboxs_attempts(engine: Engine) -> None:
    story_id = story_of(engine, add_person(engine, "sam@example.com"))
    with FakeSlack() as fake:
        now = NOW
        for _ in range(MAX_ATTEMPTS):
            fake.fail_next("chat.postMessage", "internal_error")
            run(engine, poster(fake), CONTENT, now=now)
            now += timedelta(hours=3)  # past any backoff
        failed = row(engine, story_id)
        assert failed is not None and failed.post_state == PostState.FAILED
        assert failed.post_error == f"gave up after {MAX_ATTEMPTS} attempts: internal_error"
        assert len(fake.calls_to("chat.postMessage")) == MAX_ATTEMPTS
        run(engine, poster(fake), CONTENT, now=now)
        assert len(fake.calls_to("chat.postMessage")) == MAX_ATTEMPTS


def test_a_refusal_for_good_is_not_tried_again(engine: Engine) -> None:
    story_id = story_of(engine, add_person(engine, "sam@example.com"))
    with FakeSlack() as fake:
        fake.fail_next("chat.postMessage", "is_archived")
        run(engine, poster(fake), CONTENT, now=NOW)
        run(engine, poster(fake), CONTENT, now=NOW + timedelta(days=1))
        failed = row(engine, story_id)
        assert failed is not None and failed.post_state == PostState.FAILED
        assert failed.post_error == "is_archived"
        assert len(fake.calls_to("chat.postMessage")) == 1


def test_a_message_slack_will_not_delete_is_kept_and_said(engine: Engine) -> None:
    sam = add_person(engine, "sam@example.com")
    story_id = story_of(engine, sam)
    with FakeSlack() as fake:
        fake.member_of = {CHANNEL}
        # someone else's message where ours was thought to be: Slack refuses to delete it
        fake.history[CHANNEL] = [{"type": "message", "user": "U2", "text": "hi", "ts": "5.5"}]
        with Session(engine) as db:
            story = db.get(Story, story_id)
            assert story is not None
            stories.posted(
                db, story_id, channel="slack", ref={"channel": CHANNEL, "ts": "5.5"}, now=NOW
            )
            stories.withdraw(db, story, now=NOW)
            db.commit()
        run(engine, poster(fake), CONTENT, now=NOW)
        kept = row(engine, story_id)
        assert kept is not None and kept.post_state == PostState.KEPT
        assert kept.post_error == "cant_delete_message"
        assert len(in_channel(fake)) == 1


def test_a_message_already_gone_counts_as_deleted(engine: Engine) -> None:
    story_id = story_of(engine, add_person(engine, "sam@example.com"))
    with FakeSlack() as fake:
        fake.member_of = {CHANNEL}
        run(engine, poster(fake), CONTENT, now=NOW)
        fake.history[CHANNEL].clear()  # someone with the rights deleted it in Slack
        with Session(engine) as db:
            story = db.get(Story, story_id)
            assert story is not None
            stories.withdraw(db, story, now=NOW)
            db.commit()
        run(engine, poster(fake), CONTENT, now=NOW)
        gone = row(engine, story_id)
        assert gone is not None and gone.post_state == PostState.DELETED


def test_forgetting_the_author_deletes_the_posted_message(engine: Engine) -> None:
    sam = add_person(engine, "sam@example.com", name="Sam Smit")
    posted_id = story_of(engine, sam, title="Posted one")
    with FakeSlack() as fake:
        fake.member_of = {CHANNEL}
        run(engine, poster(fake), CONTENT, now=NOW)
        [message] = in_channel(fake)
        with Session(engine) as db:
            forget_person(db, db.get_one(Person, sam))
            db.commit()
        run(engine, poster(fake), CONTENT, now=NOW + timedelta(minutes=1))
        assert fake.calls_to("chat.delete") == [{"channel": CHANNEL, "ts": message["ts"]}]
        assert in_channel(fake) == []
        assert row(engine, posted_id) is None  # nothing of the story is left
        with Session(engine) as db:
            assert db.exec(select(Story)).all() == []


def test_forgetting_the_author_while_a_deletion_waits_still_deletes_it(engine: Engine) -> None:
    sam = add_person(engine, "sam@example.com")
    story_id = story_of(engine, sam)
    with FakeSlack() as fake:
        fake.member_of = {CHANNEL}
        run(engine, poster(fake), CONTENT, now=NOW)
        with Session(engine) as db:
            story = db.get(Story, story_id)
            assert story is not None
            stories.withdraw(db, story, now=NOW)  # deletion queued…
            db.commit()
            forget_person(db, db.get_one(Person, sam))  # …and the author forgotten before it ran
            db.commit()
        run(engine, poster(fake), CONTENT, now=NOW)
        assert in_channel(fake) == [] and row(engine, story_id) is None


class WithdrawnMidway:
    """Slack takes the post while the author withdraws (or is forgotten) in another turn."""

    platform = "slack"

    def __init__(self, inner: SlackStories, engine: Engine, *, forget: bool) -> None:
        self.inner, self.engine, self.forget = inner, engine, forget

    def post(self, text: str, *, story_id: int) -> tuple[SendResult, dict[str, Any] | None]:
        answer = self.inner.post(text, story_id=story_id)
        with Session(self.engine) as db:
            story = db.get(Story, story_id)
            assert story is not None and story.person_id is not None
            if self.forget:
                forget_person(db, db.get_one(Person, story.person_id))
            else:
                stories.withdraw(db, story, now=NOW)
            db.commit()
        return answer

    def delete(self, ref: dict[str, Any]) -> SendResult:
        return self.inner.delete(ref)


@pytest.mark.parametrize("forget", [False, True])
def test_withdrawn_while_being_posted_is_deleted_in_the_same_pass(
    engine: Engine, forget: bool
) -> None:
    story_id = story_of(engine, add_person(engine, "sam@example.com"))
    with FakeSlack() as fake:
        fake.member_of = {CHANNEL}
        done = run(engine, WithdrawnMidway(poster(fake), engine, forget=forget), CONTENT, now=NOW)
        assert (done.posted, done.deleted) == (1, 1)
        assert in_channel(fake) == [] and len(fake.calls_to("chat.delete")) == 1
        with Session(engine) as db:
            left = list(db.exec(select(Story).order_by(col(Story.id))))
        if forget:
            assert left == []
        else:
            assert [(s.id, s.post_state) for s in left] == [(story_id, PostState.DELETED)]


def test_a_try_in_progress_is_not_tried_again_by_another_pass(engine: Engine) -> None:
    story_id = story_of(engine, add_person(engine, "sam@example.com"))
    with Session(engine) as db:  # another process claimed it and is still talking to Slack
        story = db.get(Story, story_id)
        assert story is not None
        story.post_attempts, story.post_after = 1, NOW + timedelta(minutes=10)
        db.add(story)
        db.commit()
    with FakeSlack() as fake:
        fake.member_of = {CHANNEL}
        run(engine, poster(fake), CONTENT, now=NOW + timedelta(minutes=1))
        assert fake.calls_to("chat.postMessage") == []
        run(engine, poster(fake), CONTENT, now=NOW + timedelta(minutes=11))  # it died
        assert len(fake.calls_to("chat.postMessage")) == 1


def test_the_setting_is_checked_at_start_up(db_url: str) -> None:
    with FakeSlack() as fake:
        on = settings(fake, db_url)
        assert on.stories_slack_channel == CHANNEL
        assert build_runtime(on).settings.stories_channel is True
        off = on.model_copy(update={"stories_slack_channel": None})
        assert build_runtime(off).settings.stories_channel is False
    base = {"_env_file": None, "database_url": db_url}
    with pytest.raises(SettingsError) as named:
        load_settings(**base, SLACK_BOT_TOKEN="xoxb-1", stories_slack_channel="#stories")
    assert named.value.lines == [
        "REGIE_STORIES_SLACK_CHANNEL=#stories: expected a Slack channel id like C0123456789 "
        "(in Slack: the channel's details, at the bottom), not its name"
    ]
    with pytest.raises(SettingsError) as alone:
        load_settings(**base, stories_slack_channel=CHANNEL)
    assert alone.value.lines == [
        f"REGIE_STORIES_SLACK_CHANNEL={CHANNEL}: a stories channel needs the Slack app: "
        "set SLACK_BOT_TOKEN as well"
    ]
    assert load_settings(**base, stories_slack_channel=" ").stories_slack_channel is None

"""The stories channel's reliable path: success stories their authors chose to post are posted,
withdrawn ones (and those of a forgotten author) deleted, by the scheduler's job.

Each try is claimed in the database before the platform is called (one conditional update, so
two processes never try the same story at once, and a process that dies during the call does
not try again before :data:`CLAIM_HOLD`); its outcome is recorded in a second transaction. A
transient failure waits with the outbox's backoff and jitter (``Retry-After`` when the platform
says so) and gives up after as many tries: a post is then ``failed``, a deletion ``kept``. A
story withdrawn while it was being posted is deleted in the same pass. Logs name stories by
number and errors by code, never a story's text.

There is one stories channel, on Slack (``bot/channels/slack/stories.py``) or in Teams
(``bot/channels/teams/stories.py``); a posted story is deleted through the platform it was
posted on (``post_channel``), even after the setting moved to the other one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from bot.config import Settings
from bot.senders import SendResult
from dialogs.engine.content import Content, load_content
from dialogs.flows.stories import render_story
from storage import stories
from storage.db import get_engine, session_scope
from storage.models import Person, PostState, Story

log = logging.getLogger(__name__)

CLAIM_HOLD = timedelta(minutes=10)
"""How long a claimed try keeps others off the story (far longer than one platform call)."""


class StoryChannel(Protocol):
    """Where stories are posted: one channel on one platform."""

    platform: str

    def post(self, text: str, *, story_id: int) -> tuple[SendResult, dict[str, Any] | None]:
        """Post ``text``; the outcome, and what deleting the message will need."""
        ...

    def delete(self, ref: dict[str, Any]) -> SendResult:
        """Delete a posted message; ``permanent``: the platform keeps it."""
        ...


@dataclass
class Done:
    posted: int = 0
    deleted: int = 0
    failed: int = 0


HINTS = {
    "not_in_channel": "invite the app to the channel",
    "not_in_team": "add the Teams app to the channel's team",
}
"""What an administrator can do about an error that is tried again."""


def story_channels(
    settings: Settings, engine: Engine
) -> tuple[StoryChannel | None, list[StoryChannel]]:
    """The stories channel (or None), and the other platforms that are on: through them,
    messages posted there before are still deleted."""
    slack: StoryChannel | None = None
    teams: StoryChannel | None = None
    if settings.slack_bot_token is not None:
        from bot.channels.slack.client import web_client
        from bot.channels.slack.stories import SlackStories

        slack = SlackStories(web_client(settings), settings.stories_slack_channel or "")
    if settings.teams_enabled:
        from bot.channels.teams.adapter import build_adapter
        from bot.channels.teams.stories import TeamsStories

        app_id = settings.microsoft_app_id or ""
        teams = TeamsStories(build_adapter(settings), engine, settings.stories_teams, app_id=app_id)
    channel = slack if settings.stories_slack_channel else teams if settings.stories_teams else None
    return channel, [c for c in (slack, teams) if c is not None and c is not channel]


def post_stories(settings: Settings, now: datetime) -> Done:
    """The scheduler's part: post and delete what is due (nothing is built when nothing is)."""
    engine = get_engine(settings.database_url)
    with session_scope(engine) as db:
        if not stories.to_post(db, now=now):
            return Done()
    channel, others = story_channels(settings, engine)
    return run(engine, channel, load_content(), now=now, others=others)


def run(
    engine: Engine,
    channel: StoryChannel | None,
    content: Content,
    *,
    now: datetime,
    others: Sequence[StoryChannel] = (),
) -> Done:
    """One pass: posts to ``channel`` first (none without one), then deletions (a story
    withdrawn meanwhile among them), each through the channel of the platform it was posted
    on: ``channel`` or one of ``others``."""
    done = Done()
    platforms = {c.platform: c for c in [*others, channel] if c is not None}
    for state in (PostState.PENDING, PostState.DELETING):
        if state == PostState.PENDING and channel is None:
            continue
        with session_scope(engine) as db:
            due = [s.id for s in stories.to_post(db, now=now) if s.post_state == state]
        for story_id in due:
            assert story_id is not None
            _one(engine, channel, platforms, content, story_id, state, now, done)
    if done.posted or done.deleted or done.failed:
        log.info(
            "stories channel: %d posted, %d deleted, %d failed",
            done.posted,
            done.deleted,
            done.failed,
        )
    return done


def _claim(engine: Engine, story_id: int, state: PostState, now: datetime) -> bool:
    with session_scope(engine) as db:
        claimed = db.exec(
            update(Story)
            .where(col(Story.id) == story_id, col(Story.post_state) == state)
            .where(or_(col(Story.post_after).is_(None), col(Story.post_after) <= now))
            .values(post_attempts=Story.post_attempts + 1, post_after=now + CLAIM_HOLD)
            .execution_options(synchronize_session=False)
        )
        return bool(claimed.rowcount)


def _one(
    engine: Engine,
    channel: StoryChannel | None,
    platforms: dict[str, StoryChannel],
    content: Content,
    story_id: int,
    state: PostState,
    now: datetime,
    done: Done,
) -> None:
    if not _claim(engine, story_id, state, now):
        return  # another process has it, or it changed since
    with session_scope(engine) as db:
        story = db.get(Story, story_id)
        if story is None:
            return
        author = db.get(Person, story.person_id) if story.person_id is not None else None
        ref = dict(story.post_ref or {})
        deleter = platforms.get(story.post_channel or "")
        text = ""
        if state == PostState.PENDING:
            if author is None:
                return
            text = render_story(content, author.language, story, author)
    if state == PostState.PENDING:
        assert channel is not None
        result, ref_posted = channel.post(text, story_id=story_id)
        with session_scope(engine) as db:
            if result.ok and ref_posted is not None:
                stories.posted(db, story_id, channel=channel.platform, ref=ref_posted, now=now)
                done.posted += 1
                log.info("story %d posted to the stories channel", story_id)
                return
            _failed(db, story_id, PostState.PENDING, result, now, done)
        return
    if ref and deleter is None:
        result = SendResult(False, error=f"{story.post_channel} is not configured")
    else:
        result = deleter.delete(ref) if deleter is not None and ref else SendResult(True)
    with session_scope(engine) as db:
        story = db.get(Story, story_id)
        if story is None or story.post_state != PostState.DELETING:
            return
        if result.ok:
            stories.deleted(db, story)
            done.deleted += 1
            log.info("story %d: its message in the stories channel was deleted", story_id)
            return
        _failed(db, story_id, PostState.DELETING, result, now, done)


def _failed(
    db: Session, story_id: int, state: PostState, result: SendResult, now: datetime, done: Done
) -> None:
    story = db.get(Story, story_id)
    if story is None or story.post_state != state:
        return  # withdrawn (or forgotten) meanwhile: nothing to post any more
    action = "post" if state == PostState.PENDING else "delete"
    if result.permanent:
        if state == PostState.PENDING:
            stories.post_failed(story, error=result.error)
        else:
            stories.kept(story, error=result.error)
        db.add(story)
        done.failed += 1
        log.warning("story %d: could not %s it for good: %s", story_id, action, result.error)
        return
    stories.retry_later(db, story, error=result.error, now=now, retry_after=result.retry_after)
    gave_up = story.post_state != state
    done.failed += gave_up
    hint = f" ({HINTS[result.error]})" if result.error in HINTS else ""
    log.warning(
        "story %d: could not %s it (%s%s); %s",
        story_id,
        action,
        result.error,
        hint,
        "given up" if gave_up else f"trying again after {story.post_after:%Y-%m-%d %H:%M} UTC",
    )

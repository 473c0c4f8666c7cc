"""Success stories: a finished experiment told in a few lines, shared only on its author's
say-so — with HR for campaigns (``for_hr``) and/or in the organisation's stories channel
(``in_channel``) — and withdrawable at any time.

HR reads only stories shared with HR and not withdrawn (:func:`for_hr`, audited per author);
a campaign step's "stories from colleagues" draws from the same set. A withdrawn story is
shown nowhere; its channel message is deleted where the platform allows (``post_state``
``deleting`` → ``deleted``, or ``kept`` with the reason). Forgetting the author deletes their
stories; one already posted keeps no person and no text, only what deleting its message needs.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Text, cast, delete, or_, update
from sqlmodel import Session, col, select

from storage.models import Outbound, Person, PostState, Story, StoryState
from storage.outbox import MAX_ATTEMPTS, backoff
from storage.privacy import Reader, record_reads

STORY_READ = "story_read"
"""The audit action of HR reading the stories shared with HR."""


def create(
    db: Session,
    *,
    author: Person,
    experiment_id: int | None,
    title: str,
    tried: str,
    learned: str,
    for_hr: bool,
    in_channel: bool,
    now: datetime,
) -> Story:
    assert author.id is not None
    story = Story(
        person_id=author.id,
        experiment_id=experiment_id,
        title=title[:300],
        tried=tried,
        learned=learned,
        for_hr=for_hr,
        in_channel=in_channel,
        created_at=now,
        post_state=PostState.PENDING if in_channel else None,
    )
    db.add(story)
    db.flush()
    return story


def stories_of(db: Session, person_id: int) -> list[Story]:
    """The person's own stories, newest first."""
    return list(
        db.exec(
            select(Story)
            .where(Story.person_id == person_id)
            .order_by(col(Story.created_at).desc(), col(Story.id).desc())
        )
    )


def own(db: Session, person_id: int, story_id: int) -> Story | None:
    story = db.get(Story, story_id)
    return story if story is not None and story.person_id == person_id else None


def of_experiment(db: Session, experiment_id: int) -> Story | None:
    return db.exec(select(Story).where(Story.experiment_id == experiment_id)).first()


def withdraw(db: Session, story: Story, *, now: datetime) -> None:
    """Shown nowhere from now on; a posted channel message is queued for deletion, one not
    posted yet is never posted."""
    story.state, story.withdrawn_at = StoryState.WITHDRAWN, now
    if story.post_state == PostState.POSTED:
        story.post_state = PostState.DELETING
    elif story.post_state in (PostState.PENDING, PostState.FAILED):
        story.post_state = None
    story.post_attempts, story.post_after = 0, None
    db.add(story)
    if story.id is not None:
        unquote(db, story.id)


STORY = "stories"
"""A message part's list of the stories it shows (a campaign's "stories from colleagues"):
what :func:`unquote` removes when one of them is withdrawn."""


def unquote(db: Session, story_id: int) -> int:
    """Remove the story from every message that quotes it (``STORY`` label), in any state.
    Returns how many messages changed."""
    rows = db.exec(select(Outbound).where(cast(Outbound.payload, Text).like(f'%"{STORY}"%')))
    changed = 0
    for row in rows:
        kept = [p for p in row.payload if story_id not in (p.get(STORY) or [])]
        if len(kept) != len(row.payload):
            row.payload = kept
            db.add(row)
            changed += 1
    return changed


def consented(db: Session, *, limit: int | None = None) -> list[Story]:
    """Stories their authors shared with HR and have not withdrawn, newest first."""
    query = (
        select(Story)
        .where(Story.state == StoryState.SHARED, col(Story.for_hr))
        .where(col(Story.person_id).is_not(None))
        .order_by(col(Story.created_at).desc(), col(Story.id).desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return list(db.exec(query))


def for_hr(db: Session, *, reader: Reader, now: datetime, limit: int = 20) -> list[Story]:
    """What HR sees: the consented stories, each author audited as read by ``reader``."""
    found = consented(db, limit=limit)
    record_reads(
        db,
        reader=reader,
        subjects=[s.person_id for s in found if s.person_id is not None],
        at=now,
        action=STORY_READ,
    )
    return found


def to_post(db: Session, *, now: datetime | None = None) -> list[Story]:
    """Stories whose channel message is to be posted or deleted (``now``: only those whose
    next try is due)."""
    query = select(Story).where(col(Story.post_state).in_([PostState.PENDING, PostState.DELETING]))
    if now is not None:
        query = query.where(or_(col(Story.post_after).is_(None), col(Story.post_after) <= now))
    return list(db.exec(query.order_by(col(Story.id))))


def claim(db: Session, story: Story, *, now: datetime, hold: timedelta) -> None:
    """One more try, recorded before the platform is called: nobody else tries it for
    ``hold``, and a process that dies during the call does not try again at once."""
    story.post_attempts += 1
    story.post_after = now + hold
    db.add(story)


def retry_later(
    db: Session, story: Story, *, error: str, now: datetime, retry_after: float | None = None
) -> None:
    """A transient failure: try again after a backoff (or as the platform asked), and give up
    after as many tries as the outbox does (a post ``failed``, a deletion ``kept``)."""
    if story.post_attempts >= MAX_ATTEMPTS:
        reason = f"gave up after {story.post_attempts} attempts: {error}"
        if story.post_state == PostState.DELETING:
            kept(story, error=reason)
        else:
            post_failed(story, error=reason)
    else:
        story.post_error = error
        story.post_after = now + backoff(story.post_attempts, retry_after)
    db.add(story)


def posted(
    db: Session, story_id: int, *, channel: str, ref: dict[str, Any], now: datetime
) -> Story:
    """The message is in the channel. A story withdrawn (or whose author was forgotten) while
    it was being posted is queued for deletion at once; one gone altogether comes back as a
    row with no person and no text, only what deleting the message needs."""
    story = db.get(Story, story_id)
    if story is None:
        story = Story(state=StoryState.WITHDRAWN, withdrawn_at=now, created_at=now)
    story.post_channel, story.post_ref, story.posted_at = channel, ref, now
    story.post_error, story.post_attempts, story.post_after = None, 0, None
    gone = story.state == StoryState.WITHDRAWN or story.person_id is None
    story.post_state = PostState.DELETING if gone else PostState.POSTED
    db.add(story)
    db.flush()
    return story


def post_failed(story: Story, *, error: str) -> None:
    """The platform refused the post for good (or every try failed)."""
    story.post_state, story.post_error, story.post_after = PostState.FAILED, error, None


def deleted(db: Session, story: Story) -> None:
    """The channel message is gone; a story whose author was forgotten goes with it."""
    if story.person_id is None:
        db.delete(story)
        return
    story.post_state, story.post_ref, story.post_error = PostState.DELETED, None, None
    story.post_attempts, story.post_after = 0, None
    db.add(story)


def kept(story: Story, *, error: str) -> None:
    """The platform would not delete the message: the story stays withdrawn everywhere else."""
    story.post_state, story.post_error, story.post_after = PostState.KEPT, error, None


def rows_of(db: Session, person_id: int) -> dict[str, list[Any]]:
    return {"story": stories_of(db, person_id)}


def forget(db: Session, person_id: int, *, now: datetime) -> None:
    """Delete the person's stories; one whose message is in the channel keeps only what
    deleting it needs (no person, no text) until that is done."""
    db.exec(
        update(Story)
        .where(col(Story.person_id) == person_id)
        .where(col(Story.post_state).in_([PostState.POSTED, PostState.DELETING]))
        .values(
            person_id=None,
            experiment_id=None,
            title="",
            tried="",
            learned="",
            for_hr=False,
            state=StoryState.WITHDRAWN,
            withdrawn_at=now,
            post_state=PostState.DELETING,
        )
        .execution_options(synchronize_session=False)
    )
    db.exec(delete(Story).where(col(Story.person_id) == person_id))

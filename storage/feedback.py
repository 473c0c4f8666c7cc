"""Feedback from colleagues: who can be asked, the requests and their answers, and the one
guarded read of someone else's feedback (a manager, for a request its owner shared).

The answers belong to the requester: nobody else reads them, unless the requester shares a
request with their manager (``visibility``), and then every read is audited. A requester
learns how many answered, never who declined or has not answered yet. In an anonymous request
the answers are shown without names, and only once at least :data:`ANONYMOUS_MINIMUM`
colleagues answered.

An answer is the colleague's text as well as the requester's feedback: forgetting the
colleague deletes their asks and answers (the requester keeps the request, one colleague
fewer), forgetting the requester deletes the request with every answer to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_
from sqlmodel import Session, col, select

from storage.models import (
    FeedbackAsk,
    FeedbackRequest,
    FeedbackState,
    Person,
    Visibility,
)
from storage.people import direct_reports, normalise_email
from storage.privacy import Reader, record_reads

MAX_COLLEAGUES = 3
ANONYMOUS_MINIMUM = 3
"""Anonymous answers are shown only once at least this many colleagues answered."""
CLOSE_COLLEAGUES = 8
FEEDBACK_READ = "feedback_read"
"""The audit action of a manager reading feedback a report shared with them."""
OPEN_STATES = (FeedbackState.ASKED, FeedbackState.LATER)


def close_colleagues(db: Session, person: Person) -> list[Person]:
    """The people someone most likely wants feedback from, for buttons: their manager, the
    people who share that manager, and their own direct reports (by name, at most eight)."""
    assert person.id is not None
    found: list[Person] = []
    if person.manager_id is not None:
        manager = db.get(Person, person.manager_id)
        found += [manager] if manager is not None else []
        found += direct_reports(db, person.manager_id)
    found += direct_reports(db, person.id)
    seen: set[int] = set()
    unique = []
    for colleague in found:
        if colleague.id is not None and colleague.id != person.id and colleague.id not in seen:
            seen.add(colleague.id)
            unique.append(colleague)
    return unique[:CLOSE_COLLEAGUES]


def find_colleagues(db: Session, typed: str, *, exclude: Sequence[int] = ()) -> list[Person]:
    """People matching what was typed: an e-mail address exactly, or a name (every word
    typed appears in it, any case); at most six, by name."""
    typed = " ".join(typed.split())
    if not typed:
        return []
    query = select(Person).where(col(Person.id).not_in(list(exclude)))
    if "@" in typed:
        query = query.where(Person.email == normalise_email(typed))
    else:
        for word in typed.lower().split():
            escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(func.lower(Person.name).like(f"%{escaped}%", escape="\\"))
    return list(db.exec(query.order_by(col(Person.name), col(Person.id)).limit(6)))


def create_request(
    db: Session,
    *,
    requester: Person,
    topic: str,
    colleague_ids: Sequence[int],
    anonymous: bool,
    now: datetime,
) -> tuple[FeedbackRequest, list[FeedbackAsk]]:
    """A new request (private, whatever the requester's default: feedback about someone is
    theirs until they say otherwise) and one ask per colleague."""
    assert requester.id is not None
    wanted = list(dict.fromkeys(c for c in colleague_ids if c != requester.id))
    if not 1 <= len(wanted) <= MAX_COLLEAGUES:
        raise ValueError(f"ask 1 to {MAX_COLLEAGUES} colleagues, not {len(wanted)}")
    request = FeedbackRequest(
        person_id=requester.id,
        visibility=Visibility.PRIVATE,
        in_aggregates=requester.in_aggregates,
        created_at=now,
        topic=topic[:500],
        anonymous=anonymous and len(wanted) >= ANONYMOUS_MINIMUM,
    )
    db.add(request)
    db.flush()
    assert request.id is not None
    asks = [FeedbackAsk(request_id=request.id, colleague_id=c, asked_at=now) for c in wanted]
    db.add_all(asks)
    db.flush()
    return request, asks


def requests_of(db: Session, person_id: int) -> list[FeedbackRequest]:
    """The person's own requests, newest first."""
    return list(
        db.exec(
            select(FeedbackRequest)
            .where(FeedbackRequest.person_id == person_id)
            .order_by(col(FeedbackRequest.created_at).desc(), col(FeedbackRequest.id).desc())
        )
    )


def own_request(db: Session, person_id: int, request_id: int) -> FeedbackRequest | None:
    request = db.get(FeedbackRequest, request_id)
    return request if request is not None and request.person_id == person_id else None


def asks_of(db: Session, request_id: int) -> list[FeedbackAsk]:
    return list(
        db.exec(
            select(FeedbackAsk)
            .where(FeedbackAsk.request_id == request_id)
            .order_by(col(FeedbackAsk.id))
        )
    )


def ask_for(db: Session, ask_id: int, colleague_id: int) -> FeedbackAsk | None:
    """The ask if it was meant for this colleague (nothing in a button is trusted)."""
    ask = db.get(FeedbackAsk, ask_id)
    return ask if ask is not None and ask.colleague_id == colleague_id else None


def is_open(ask: FeedbackAsk) -> bool:
    return ask.state in OPEN_STATES


def answer(ask: FeedbackAsk, text: str, *, now: datetime) -> None:
    ask.state, ask.answer, ask.answered_at = FeedbackState.ANSWERED, text, now


def decline(ask: FeedbackAsk, *, now: datetime) -> None:
    ask.state, ask.answer, ask.answered_at = FeedbackState.DECLINED, None, now


@dataclass(frozen=True)
class Tally:
    """What the requester learns about their colleagues: how many answered, of how many."""

    answered: int
    asked: int


def tally(asks: Sequence[FeedbackAsk]) -> Tally:
    return Tally(sum(1 for a in asks if a.state == FeedbackState.ANSWERED), len(asks))


@dataclass(frozen=True)
class Answers:
    """The answers of one request as they may be shown: ``(name or None, text)``; ``held``
    when the request is anonymous and too few have answered to show any."""

    tally: Tally
    lines: list[tuple[str | None, str]]
    held: bool = False


def answers(db: Session, request: FeedbackRequest) -> Answers:
    assert request.id is not None
    asks = asks_of(db, request.id)
    counted = tally(asks)
    done = [a for a in asks if a.state == FeedbackState.ANSWERED and a.answer]
    if request.anonymous:
        if counted.answered < ANONYMOUS_MINIMUM:
            return Answers(counted, [], held=True)
        # sorted by text, not by who answered first: the order gives nobody away
        return Answers(counted, sorted((None, str(a.answer)) for a in done))
    names = {
        p.id: p.name
        for p in db.exec(select(Person).where(col(Person.id).in_([a.colleague_id for a in done])))
    }
    return Answers(counted, [(names.get(a.colleague_id, ""), str(a.answer)) for a in done])


def share(db: Session, request: FeedbackRequest, *, shared: bool) -> None:
    request.visibility = Visibility.MANAGER if shared else Visibility.PRIVATE
    db.add(request)


@dataclass(frozen=True)
class SharedFeedback:
    owner: Person
    request: FeedbackRequest
    answers: Answers


def shared_with(
    db: Session, *, manager: Person, reader: Reader, now: datetime
) -> list[SharedFeedback]:
    """Feedback the manager's direct reports chose to share with them, newest first; each
    report whose feedback is shown is audited as read by ``reader``."""
    assert manager.id is not None
    reports = {p.id: p for p in direct_reports(db, manager.id) if p.id is not None}
    if not reports:
        return []
    requests = db.exec(
        select(FeedbackRequest)
        .where(col(FeedbackRequest.person_id).in_(list(reports)))
        .where(FeedbackRequest.visibility == Visibility.MANAGER)
        .order_by(col(FeedbackRequest.created_at).desc(), col(FeedbackRequest.id).desc())
    )
    found = [SharedFeedback(reports[r.person_id], r, answers(db, r)) for r in requests]
    record_reads(
        db,
        reader=reader,
        subjects=[f.request.person_id for f in found],
        at=now,
        action=FEEDBACK_READ,
    )
    return found


def rows_of(db: Session, person_id: int) -> dict[str, list[Any]]:
    """For an export: the person's requests with every ask, and the answers they gave."""
    requests = requests_of(db, person_id)
    ids = [r.id for r in requests]
    asks = db.exec(
        select(FeedbackAsk)
        .where(
            or_(col(FeedbackAsk.request_id).in_(ids), col(FeedbackAsk.colleague_id) == person_id)
        )
        .order_by(col(FeedbackAsk.id))
    )
    return {"feedback_request": requests, "feedback_ask": list(asks)}


def forget(db: Session, person_id: int) -> None:
    """Their requests (with every answer to them), and every ask and answer of theirs."""
    mine = select(FeedbackRequest.id).where(FeedbackRequest.person_id == person_id)
    db.exec(
        delete(FeedbackAsk).where(
            or_(col(FeedbackAsk.request_id).in_(mine), col(FeedbackAsk.colleague_id) == person_id)
        )
    )
    db.exec(delete(FeedbackRequest).where(col(FeedbackRequest.person_id) == person_id))

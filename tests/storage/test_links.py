"""One-time links (storage/links.py), on SQLite and PostgreSQL: once, in time, for their
purpose only, a few an hour, audited, looked at without being used, removed by the retention
job once dead (web sessions too), and gone with the person."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.jobs import enqueue_due
from storage import links, web_sessions
from storage.db import make_engine
from storage.models import AuditEntry, LinkPurpose, OneTimeLink, Person, WebSession
from storage.personal_data import export_person, forget_person
from storage.privacy import readings

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def person(engine: Engine, email: str = "ann@example.com") -> int:
    with Session(engine) as db:
        row = Person(email=email, name="Ann")
        db.add(row)
        db.commit()
        assert row.id is not None
        return row.id


def issue(engine: Engine, person_id: int, purpose: LinkPurpose, now: datetime = NOW) -> str:
    with Session(engine) as db:
        token = links.issue(db, person_id, purpose, now=now).token
        db.commit()
        return token


def redeem(
    engine: Engine, token: str, purposes: tuple[LinkPurpose, ...], now: datetime
) -> links.Redeemed | None:
    with Session(engine) as db:
        used = links.redeem(db, token, purposes, now=now)
        db.commit()
        return used


def test_a_link_works_once_and_stores_only_a_hash(engine: Engine) -> None:
    ann = person(engine)
    token = issue(engine, ann, LinkPurpose.DOWNLOAD_JSON)
    with Session(engine) as db:
        stored = db.exec(select(OneTimeLink)).one()
    assert stored.token_hash != token and token not in stored.token_hash
    assert stored.expires_at == NOW + timedelta(minutes=15)

    first = redeem(engine, token, links.DOWNLOADS, NOW + timedelta(minutes=1))
    assert first == links.Redeemed(ann, LinkPurpose.DOWNLOAD_JSON)
    assert redeem(engine, token, links.DOWNLOADS, NOW + timedelta(minutes=2)) is None
    with Session(engine) as db:
        assert db.exec(select(OneTimeLink)).one().used_at == NOW + timedelta(minutes=1)


def test_a_link_expires(engine: Engine) -> None:
    ann = person(engine)
    sign_in = issue(engine, ann, LinkPurpose.SIGN_IN)
    download = issue(engine, ann, LinkPurpose.DOWNLOAD_PAGE)
    assert redeem(engine, sign_in, (LinkPurpose.SIGN_IN,), NOW + timedelta(minutes=10)) is None
    late = NOW + timedelta(minutes=15)
    assert redeem(engine, download, links.DOWNLOADS, late) is None
    assert redeem(engine, download, links.DOWNLOADS, late - timedelta(seconds=1)) is not None


def test_a_shorter_life_may_be_asked_never_a_longer_one(engine: Engine) -> None:
    ann = person(engine)
    with Session(engine) as db:
        short = links.issue(db, ann, LinkPurpose.SIGN_IN, now=NOW, ttl=timedelta(minutes=2))
        long = links.issue(db, ann, LinkPurpose.SIGN_IN, now=NOW, ttl=timedelta(hours=5))
    assert short.expires_at == NOW + timedelta(minutes=2)
    assert long.expires_at == NOW + timedelta(minutes=10)


def test_a_link_is_only_for_its_purpose_and_stays_usable_for_it(engine: Engine) -> None:
    ann = person(engine)
    download = issue(engine, ann, LinkPurpose.DOWNLOAD_JSON)
    assert redeem(engine, download, (LinkPurpose.SIGN_IN,), NOW) is None
    assert redeem(engine, "not-a-token", links.DOWNLOADS, NOW) is None
    assert redeem(engine, "", links.DOWNLOADS, NOW) is None
    assert redeem(engine, download, links.DOWNLOADS, NOW) is not None


def test_at_most_five_an_hour_per_purpose(engine: Engine) -> None:
    ann = person(engine)
    for minute in range(links.PER_HOUR):
        issue(engine, ann, LinkPurpose.SIGN_IN, NOW + timedelta(minutes=minute))
    with Session(engine) as db, pytest.raises(links.TooManyLinks) as refused:
        links.issue(db, ann, LinkPurpose.SIGN_IN, now=NOW + timedelta(minutes=30))
    assert refused.value.retry_at == NOW + timedelta(hours=1)
    issue(engine, ann, LinkPurpose.DOWNLOAD_JSON, NOW + timedelta(minutes=30))  # other purpose
    issue(engine, ann, LinkPurpose.SIGN_IN, NOW + timedelta(hours=1, seconds=1))
    # Spent links outside the hour are cleared away when new ones are made.
    with Session(engine) as db:
        rows = db.exec(select(OneTimeLink).where(OneTimeLink.person_id == ann)).all()
    assert len(rows) == 6  # 4 sign-in links still in the window + 1 new + 1 download


def test_of_two_simultaneous_uses_only_one_wins(db_url: str, engine: Engine) -> None:
    ann = person(engine)
    token = issue(engine, ann, LinkPurpose.DOWNLOAD_JSON)
    engines = [make_engine(db_url) for _ in range(4)]
    start = threading.Barrier(len(engines))
    results: list[links.Redeemed | None] = []

    def use(own: Engine) -> None:
        start.wait()
        results.append(redeem(own, token, links.DOWNLOADS, NOW))

    threads = [threading.Thread(target=use, args=(own,)) for own in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for own in engines:
        own.dispose()
    assert sorted(r is not None for r in results) == [False, False, False, True]
    with Session(engine) as db:
        assert len(db.exec(select(AuditEntry).where(AuditEntry.action == "download")).all()) == 1


def test_every_use_shows_in_the_persons_own_readings(engine: Engine) -> None:
    ann = person(engine)
    redeem(engine, issue(engine, ann, LinkPurpose.DOWNLOAD_PAGE), links.DOWNLOADS, NOW)
    redeem(engine, issue(engine, ann, LinkPurpose.SIGN_IN), (LinkPurpose.SIGN_IN,), NOW)
    with Session(engine) as db:
        seen = readings(db, ann)
    assert sorted(r.what for r in seen) == ["download", "web_sign_in"]
    assert all(r.reader is not None and r.reader.id == ann for r in seen)


def test_export_lists_links_without_secrets_and_forget_removes_them(engine: Engine) -> None:
    ann = person(engine)
    token = issue(engine, ann, LinkPurpose.DOWNLOAD_JSON)
    redeem(engine, token, links.DOWNLOADS, NOW)
    with Session(engine) as db:
        data = export_person(db, db.get(Person, ann), now=NOW)  # type: ignore[arg-type]
        stored_hash = db.exec(select(OneTimeLink.token_hash)).one()
    assert data["one_time_link"] == [
        {
            "purpose": "download_json",
            "created_at": NOW.isoformat(),
            "expires_at": (NOW + timedelta(minutes=15)).isoformat(),
            "used_at": NOW.isoformat(),
        }
    ]
    assert token not in str(data) and stored_hash not in str(data)
    with Session(engine) as db:
        forget_person(db, db.get(Person, ann))  # type: ignore[arg-type]
        db.commit()
    with Session(engine) as db:
        assert db.exec(select(OneTimeLink)).all() == []
        assert [e.action for e in db.exec(select(AuditEntry))] == ["person_deleted"]


def test_peeking_tells_what_a_link_is_and_uses_nothing(engine: Engine) -> None:
    ann = person(engine)
    token = issue(engine, ann, LinkPurpose.SIGN_IN)
    with Session(engine) as db:
        for _ in range(3):  # a scanner, a preview, the person
            seen = links.peek(db, token, [LinkPurpose.SIGN_IN], now=NOW + timedelta(minutes=1))
            assert seen == links.Redeemed(ann, LinkPurpose.SIGN_IN)
        assert links.peek(db, token, links.DOWNLOADS, now=NOW) is None  # not for that
        assert links.peek(db, "made-up", [LinkPurpose.SIGN_IN], now=NOW) is None
        assert links.peek(db, "", [LinkPurpose.SIGN_IN], now=NOW) is None
        late = NOW + timedelta(minutes=10)
        assert links.peek(db, token, [LinkPurpose.SIGN_IN], now=late) is None  # expired
        assert db.exec(select(OneTimeLink.used_at)).one() is None
        assert db.exec(select(AuditEntry)).all() == []
    assert redeem(engine, token, (LinkPurpose.SIGN_IN,), NOW + timedelta(minutes=2)) is not None
    with Session(engine) as db:  # used: nothing more to see
        assert links.peek(db, token, [LinkPurpose.SIGN_IN], now=NOW + timedelta(minutes=3)) is None


def test_the_retention_job_removes_dead_links_and_ended_sessions(
    engine: Engine, db_url: str
) -> None:
    """The scheduler's job (``bot/jobs.py``), at injected instants: a link goes once it can no
    longer be used and no longer counts towards the hourly limit; a session once it ended. A
    calendar link, used but good until its workshop, stays; the audit of every use stays."""
    ann, bo = person(engine), person(engine, "bo@example.com")
    signed = issue(engine, ann, LinkPurpose.SIGN_IN)
    issue(engine, bo, LinkPurpose.DOWNLOAD_JSON)  # never used: expires at 9:15
    redeem(engine, signed, (LinkPurpose.SIGN_IN,), NOW + timedelta(minutes=1))
    with Session(engine) as db:
        links.issue(db, ann, LinkPurpose.CALENDAR, now=NOW, ttl=timedelta(days=30))
        web_sessions.start(db, ann, now=NOW)  # idle until 11:00
        web_sessions.start(db, bo, now=NOW + timedelta(minutes=50))  # idle until 11:50
        db.commit()
    late = issue(engine, bo, LinkPurpose.SIGN_IN, NOW + timedelta(minutes=50))
    settings = Settings(_env_file=None, database_url=db_url)  # type: ignore[call-arg]

    def remaining() -> tuple[list[str], list[int]]:
        with Session(engine) as db:
            kept = db.exec(select(OneTimeLink).order_by(col(OneTimeLink.id))).all()
            live = db.exec(select(WebSession).order_by(col(WebSession.id))).all()
            return [str(k.purpose) for k in kept], [s.person_id for s in live]

    enqueue_due(settings, NOW + timedelta(minutes=30))  # dead or not, all still in the hour
    assert remaining() == (["sign_in", "download_json", "calendar", "sign_in"], [ann, bo])
    enqueue_due(settings, NOW + timedelta(hours=1, minutes=1))
    assert remaining() == (["calendar", "sign_in"], [ann, bo])
    enqueue_due(settings, NOW + timedelta(hours=2, minutes=1))  # Ann's session ended at 11:00
    assert remaining() == (["calendar"], [bo])
    with Session(engine) as db:
        assert links.peek(db, late, [LinkPurpose.SIGN_IN], now=NOW) is None  # gone for good
        assert [e.action for e in db.exec(select(AuditEntry))] == ["web_sign_in"]
        assert [r.what for r in readings(db, ann)] == ["web_sign_in"]

"""What the privacy tests share: a delivery sender that records what it was given, and a look
at everything a database holds — the SQLite file's bytes, or every row of every table on
PostgreSQL — to find text that should be gone."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from bot.delivery import DeliveryWorker
from bot.ratelimit import AdaptiveRate
from bot.senders import Lookup, SendResult
from dialogs.engine.replies import Reply
from storage.db import dispose_engines
from storage.models import Person


@dataclass
class RecordingSender:
    """A chat platform that reaches the people ``reaches`` says and keeps what it was sent."""

    reaches: Callable[[Person], bool] = lambda person: True
    channel: str = "fake"
    limiter: AdaptiveRate = field(default_factory=lambda: AdaptiveRate(1000.0, burst=1000))
    sent: list[tuple[int, str, list[Reply]]] = field(default_factory=list)

    @property
    def lookups(self) -> AdaptiveRate | None:
        return None

    def can_reach(self, person: Person) -> bool:
        return self.reaches(person)

    async def already_sent(
        self, person: Person, keys: Sequence[str], *, since: datetime
    ) -> dict[str, Lookup]:
        return {}

    async def send(self, person: Person, replies: Sequence[Reply], *, key: str) -> SendResult:
        assert person.id is not None
        self.sent.append((person.id, key, list(replies)))
        return SendResult(True)

    def texts(self, person_id: int) -> str:
        return "\n".join(
            r.text for pid, _, replies in self.sent if pid == person_id for r in replies
        )


def deliver(engine: Engine, senders: Sequence[RecordingSender], now: datetime) -> None:
    """One delivery worker, passes until nothing is due at ``now``."""
    asyncio.run(DeliveryWorker(engine, senders, clock=lambda: now).run_until_idle())


def stored_text(engine: Engine) -> str:
    """Everything the database holds, as text: on SQLite the bytes of the database file and
    its write-ahead log (deleted rows included, if they were left in free space); on
    PostgreSQL every row of every table, each column as text."""
    if engine.dialect.name == "sqlite":
        dispose_engines()
        path = Path(str(engine.url.database))
        engine.dispose()
        data = path.read_bytes()
        wal = path.with_name(path.name + "-wal")
        if wal.exists():
            data += wal.read_bytes()
        return data.decode("utf-8", errors="replace")
    rows: list[str] = []
    with engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            rows += [
                str(r[0]) for r in connection.execute(text(f'SELECT t::text FROM "{table}" t'))
            ]
    return "\n".join(rows)

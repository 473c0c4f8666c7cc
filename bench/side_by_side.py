"""Side by side: the same reflection (5 turns a person) through botbuilder's TestAdapter, once as
a WaterfallDialog with in-memory state (the baseline) and once through Regie's Teams bot — the
real ``TeamsBot.on_turn`` path, card rendering and the hop off the event loop included — with
every turn committed to the database before the reply. Also Regie's runtime alone (no Teams
layer), to show where the time goes.

The variants run interleaved, person by person, in one process and one event loop, so a busy
machine slows them alike: the ratio of their medians is what to read, not the milliseconds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

REGIE_SCRIPT = ["reflect", "Explaining things simply", "skip", "Leading a team one day", "3"]
BASELINE_SCRIPT = ["hi", "Explaining things simply", "skip", "Leading a team one day", "3"]
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def seed_people(engine: Engine, people: int) -> list[int]:
    from bench.people import bench_person
    from storage.models import Person

    with engine.begin() as connection:
        connection.execute(
            insert(Person),
            [
                bench_person(n, NOW, name=f"Person {n}", teams_aad_id=f"aad-{n}")
                for n in range(people)
            ],
        )
        ids = connection.execute(select(Person.id).order_by(Person.id)).scalars().all()
    return [int(i) for i in ids]


class Variants:
    """Every variant's driver for person ``n``, and their latencies."""

    def __init__(self, people: int, engines: dict[str, Engine]) -> None:
        from bench.waterfall_baseline import WaterfallReflection, adapter_for
        from bot.channels.teams.bot import TeamsBot
        from bot.config import Settings
        from bot.wiring import build_runtime
        from dialogs.engine.turn import Turn

        settings = Settings(_env_file=None, teams_allow_unauthenticated=True)  # type: ignore[call-arg]
        baseline = WaterfallReflection()
        self.latencies: dict[str, list[float]] = {"baseline": []}
        self._drivers: dict[str, Callable[[int], Any]] = {}

        async def drive_baseline(n: int) -> None:
            adapter = adapter_for(baseline.on_turn, n)
            await self._timed("baseline", adapter.receive_activity, BASELINE_SCRIPT)

        self._drivers["baseline"] = drive_baseline
        for name, engine in engines.items():
            ids = seed_people(engine, people)
            runtime = build_runtime(settings, engine)
            runtime.clock = lambda: NOW
            bot = TeamsBot(runtime, engine, settings, adapter=None)  # type: ignore[arg-type]
            alone = build_runtime(settings, engine)
            alone.clock = lambda: NOW

            async def drive_teams(n: int, _bot: Any = bot, _name: str = name) -> None:
                adapter = adapter_for(_bot.on_turn, n)
                await self._timed(f"regie_teams_{_name}", adapter.receive_activity, REGIE_SCRIPT)

            async def drive_runtime(
                n: int, _rt: Any = alone, _ids: list[int] = ids, _name: str = name
            ) -> None:
                person = _ids[len(_ids) // 2 + n]

                async def say(text: str) -> None:
                    _rt.handle_turn(Turn(person_id=person, text=text))

                await self._timed(f"regie_runtime_{_name}", say, REGIE_SCRIPT)

            self._drivers[f"regie_teams_{name}"] = drive_teams
            self._drivers[f"regie_runtime_{name}"] = drive_runtime
            self.latencies[f"regie_teams_{name}"] = []
            self.latencies[f"regie_runtime_{name}"] = []

    async def _timed(self, name: str, send: Callable[[str], Any], script: list[str]) -> None:
        for text in script:
            started = time.perf_counter()
            await send(text)
            self.latencies[name].append(time.perf_counter() - started)

    async def run(self, people: int) -> None:
        for n in range(people):
            for drive in self._drivers.values():
                await drive(n)


def side_by_side(people: int, engines: dict[str, Engine]) -> dict[str, list[float]]:
    """Each variant's turn latencies (seconds), the variants interleaved person by person;
    ``engines`` (name: engine, migrated, empty) hold at least ``2 * people`` people."""
    variants = Variants(2 * people, engines)
    asyncio.run(variants.run(people))
    return variants.latencies

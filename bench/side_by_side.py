"""Side by side: the same reflection (5 turns a person) through botbuilder's TestAdapter,
once as a WaterfallDialog with in-memory state (the baseline) and once through Regie's Teams
bot — the real ``TeamsBot.on_turn`` path, card rendering included — with every turn
committed to a SQLite file."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session

REGIE_SCRIPT = ["reflect", "Explaining things simply", "skip", "Leading a team one day", "3"]
BASELINE_SCRIPT = ["hi", "Explaining things simply", "skip", "Leading a team one day", "3"]


async def _drive(adapters: list, script: list[str]) -> list[float]:  # type: ignore[type-arg]
    latencies: list[float] = []
    for adapter in adapters:
        for text in script:
            started = time.perf_counter()
            await adapter.receive_activity(text)
            latencies.append(time.perf_counter() - started)
    return latencies


def baseline(people: int) -> list[float]:
    from bench.waterfall_baseline import WaterfallReflection, adapter_for

    bot = WaterfallReflection()
    adapters = [adapter_for(bot.on_turn, n) for n in range(people)]
    return asyncio.run(_drive(adapters, BASELINE_SCRIPT))


def regie_teams(people: int, db_path: Path) -> list[float]:
    from bench.waterfall_baseline import adapter_for
    from bot.channels.teams.bot import TeamsBot
    from bot.config import Settings
    from bot.wiring import build_runtime
    from storage.db import make_engine
    from storage.migrate import upgrade
    from storage.models import Person

    engine = make_engine(f"sqlite:///{db_path}")
    upgrade(engine)
    now = datetime.now(UTC)
    with Session(engine) as db:
        db.add_all(
            Person(
                email=f"p{n}@bench.example",
                name=f"Person {n}",
                teams_aad_id=f"aad-{n}",
                welcomed_at=now,
            )
            for n in range(people)
        )
        db.commit()
    settings = Settings(_env_file=None, teams_allow_unauthenticated=True)  # type: ignore[call-arg]
    bot = TeamsBot(build_runtime(settings, engine), engine, settings, adapter=None)  # type: ignore[arg-type]
    adapters = [adapter_for(bot.on_turn, n) for n in range(people)]
    latencies = asyncio.run(_drive(adapters, REGIE_SCRIPT))
    engine.dispose()
    return latencies

"""``GET /healthz``: 503 with the reason while the scheduler's last run failed or the delivery
worker is stuck, 200 again once a run or a pass completes. Time is injected: nothing sleeps,
each step waits for a positive signal (a run ended, a pass ended)."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.config import Settings, get_settings
from bot.delivery import DeliveryReport, DeliveryWorker
from bot.health import Health
from bot.jobs import RUN_DUE_JOB
from bot.scheduler import build_scheduler
from bot.server import build_web_app
from storage.db import make_engine
from storage.models import SchedulerRun
from storage.scheduler_runs import last_run
from tests.bot.slack_harness import WebServer

START = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
OK = {"status": "ok", "channels": {"slack": True}}
STUCK_301 = "delivery worker stuck: no completed pass for 301 s (limit 300 s)"
WAIT = 60.0  # seconds at most for a positive signal; never slept


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(autouse=True)
def clean_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """The scheduler's job reads the settings: none from the machine, no ``.env``."""
    for name in os.environ:
        if name.startswith(("REGIE_", "SLACK_", "MICROSOFT_", "OPENAI_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def get_healthz(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


async def healthz(client: TestClient[Any, Any]) -> tuple[int, Any]:
    response = await client.get("/healthz")
    return response.status, await response.json()


def test_healthz_is_503_while_the_scheduler_job_fails_and_200_once_it_runs(
    db_url: str, tmp_path: Path
) -> None:
    """The real job on the real scheduler: first against a database it cannot open, then
    against the real one."""
    clock = Clock()
    health = Health(clock=clock, delivery_stuck_after=None)
    unreachable = f"sqlite:///{tmp_path / 'no-such-directory' / 'regie.db'}"
    scheduler = build_scheduler(Settings(_env_file=None, database_url=unreachable), health)  # type: ignore[call-arg]
    ended: queue.Queue[JobExecutionEvent] = queue.Queue()
    scheduler.add_listener(ended.put, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)  # after health's
    server = WebServer(build_web_app(channels={"slack": True}, routes={}, health=health)).start()
    try:
        assert get_healthz(server.url) == (200, OK)
        scheduler.start()  # the job runs at once
        first = ended.get(timeout=WAIT)
        assert first.exception is not None
        status, body = get_healthz(server.url)
        assert (status, body["status"], body["channels"]) == (503, "unhealthy", {"slack": True})
        assert body["reasons"] == [
            f"scheduler: the last run of {RUN_DUE_JOB} (at 2026-12-04T09:00:00Z) failed with "
            "OperationalError"
        ]
        clock.advance(60)
        # APScheduler runs jobs on the real clock; "now" only means "run it at once" (what the
        # job sees is the injected `clock`).
        at_once = datetime.now(UTC)  # clock-ok: APScheduler's own clock, not the test's
        scheduler.modify_job(RUN_DUE_JOB, kwargs={"database_url": db_url}, next_run_time=at_once)
        second = ended.get(timeout=WAIT)
        assert second.exception is None, second.traceback
        assert get_healthz(server.url) == (200, OK)
    finally:
        scheduler.shutdown(wait=True)
        server.stop()


def test_the_schedulers_runs_are_stored_for_every_replica_to_read(
    db_url: str, tmp_path: Path
) -> None:
    """The one scheduling process writes each run of its job to the database, where any
    replica's health page reads it: the run that went well, then one that failed."""
    clock = Clock()
    health = Health(clock=clock, delivery_stuck_after=None)
    scheduler = build_scheduler(Settings(_env_file=None, database_url=db_url), health)  # type: ignore[call-arg]
    ended: queue.Queue[JobExecutionEvent] = queue.Queue()
    scheduler.add_listener(ended.put, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)  # after the record
    engine = make_engine(db_url)
    try:
        scheduler.start()
        assert ended.get(timeout=WAIT).exception is None
        with Session(engine) as db:
            run = last_run(db)
            assert run is not None and (run.job, run.at, run.error) == (RUN_DUE_JOB, START, None)
            assert f"(pid {os.getpid()})" in run.host
        clock.advance(60)
        unreachable = f"sqlite:///{tmp_path / 'no-such-directory' / 'regie.db'}"
        at_once = datetime.now(UTC)  # clock-ok: APScheduler's own clock, not the test's
        scheduler.modify_job(
            RUN_DUE_JOB, kwargs={"database_url": unreachable}, next_run_time=at_once
        )
        assert ended.get(timeout=WAIT).exception is not None
        with Session(engine) as db:
            run = last_run(db)
            assert run is not None
            assert (run.at, run.error) == (START + timedelta(seconds=60), "OperationalError")
            assert len(db.exec(select(SchedulerRun)).all()) == 1  # one row per job
    finally:
        scheduler.shutdown(wait=True)
        engine.dispose()


def scripted(worker: DeliveryWorker, monkeypatch: pytest.MonkeyPatch) -> asyncio.Queue[Any]:
    """Each pass of ``worker`` takes its next step from the queue: "ok", or an exception to
    raise. With nothing queued, the pass hangs: a stuck worker."""
    steps: asyncio.Queue[Any] = asyncio.Queue()

    async def run_once(**_: Any) -> DeliveryReport:
        step = await steps.get()
        if isinstance(step, BaseException):
            raise step
        return DeliveryReport()

    monkeypatch.setattr(worker, "run_once", run_once)
    return steps


def test_a_stuck_delivery_worker_is_503_until_a_pass_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    health = Health(clock=clock, delivery_stuck_after=timedelta(seconds=300))
    worker = DeliveryWorker(make_engine(f"sqlite:///{tmp_path / 'unused.db'}"), [])  # scripted
    web_app = build_web_app(channels={"slack": True}, routes={}, health=health)

    async def scenario() -> None:
        steps = scripted(worker, monkeypatch)
        passes: asyncio.Queue[BaseException | None] = asyncio.Queue()

        def on_pass(error: BaseException | None) -> None:
            health.delivery_passed(error)
            passes.put_nowait(error)

        async def next_pass() -> BaseException | None:
            return await asyncio.wait_for(passes.get(), WAIT)

        async with TestClient(TestServer(web_app)) as client:
            task = asyncio.create_task(worker.run_forever(idle=0, on_pass=on_pass))
            try:
                steps.put_nowait("ok")
                assert await next_pass() is None
                # the next pass hangs
                clock.advance(300)
                assert await healthz(client) == (200, OK)
                clock.advance(1)
                assert await healthz(client) == (
                    503,
                    {
                        "status": "unhealthy",
                        "reasons": [STUCK_301],
                        "channels": {"slack": True},
                    },
                )
                steps.put_nowait("ok")
                assert await next_pass() is None
                assert await healthz(client) == (200, OK)

                # a pass that fails is not yet a stuck worker; failing for the limit is
                steps.put_nowait(RuntimeError("the database went away"))
                assert isinstance(await next_pass(), RuntimeError)
                assert await healthz(client) == (200, OK)
                clock.advance(120)
                steps.put_nowait(RuntimeError("still away"))
                assert isinstance(await next_pass(), RuntimeError)
                clock.advance(181)
                status, body = await healthz(client)
                assert (status, body["reasons"]) == (
                    503,
                    [
                        "delivery worker stuck: no completed pass for 301 s (limit 300 s); "
                        "the last pass (at 2026-12-04T09:07:01Z) failed with RuntimeError"
                    ],
                )
                steps.put_nowait("ok")
                assert await next_pass() is None
                assert await healthz(client) == (200, OK)
            finally:
                task.cancel()

    asyncio.run(scenario())


def test_a_worker_that_never_completes_its_first_pass_is_stuck() -> None:
    clock = Clock()
    health = Health(clock=clock, delivery_stuck_after=timedelta(seconds=300))
    clock.advance(300)
    assert health.reasons() == []
    clock.advance(1)
    assert health.reasons() == [STUCK_301]


def test_the_real_worker_reports_each_pass(db_url: str, tmp_path: Path) -> None:
    """Real passes: one on the database (nothing due: it completes), one on a database the
    worker cannot open (it fails, with the error's type)."""
    reported: list[str | None] = []
    health = Health(clock=Clock())

    async def first_pass(engine: Engine) -> BaseException | None:
        done: asyncio.Queue[BaseException | None] = asyncio.Queue()
        task = asyncio.create_task(DeliveryWorker(engine, []).run_forever(on_pass=done.put_nowait))
        try:
            return await asyncio.wait_for(done.get(), WAIT)
        finally:
            task.cancel()

    for url in (db_url, f"sqlite:///{tmp_path / 'no-such-directory' / 'regie.db'}"):
        engine = make_engine(url)
        try:
            error = asyncio.run(first_pass(engine))
        finally:
            engine.dispose()
        health.delivery_passed(error)
        reported.append(health.delivery.error if health.delivery else "none")
    assert reported == [None, "OperationalError"]

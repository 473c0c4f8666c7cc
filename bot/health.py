"""What ``GET /healthz`` says about the work ``regie serve`` does in the background.

Two things are watched: the scheduler's last run (it reports through an APScheduler listener,
``bot.scheduler.report_to``) and the outbox delivery worker (it reports after every pass,
``DeliveryWorker.run_forever(on_pass=...)``). Unhealthy means: the scheduler's last run failed,
or the worker has not completed a pass for longer than ``delivery_stuck_after`` (hung, or every
pass fails). Only the type of an error is kept: an exception's text may quote what people wrote.
The clock is injected, so tests move time instead of waiting for it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

DELIVERY_STUCK_AFTER = timedelta(minutes=5)
"""A pass sends at most one claim's worth (seconds, a minute under rate limits); far longer
than that without one completing means the worker is stuck."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Run:
    """One scheduler run or one delivery pass: when it ended, and the error type if it failed."""

    at: datetime
    error: str | None = None
    job: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None


def _error_type(error: BaseException | str | None) -> str | None:
    if error is None or isinstance(error, str):
        return error
    return type(error).__name__


class Health:
    """Thread-safe: the scheduler reports from its own threads, the worker from the event loop,
    and ``/healthz`` reads from the event loop."""

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] = _utcnow,
        delivery_stuck_after: timedelta | None = DELIVERY_STUCK_AFTER,
    ) -> None:
        """``delivery_stuck_after=None``: no delivery worker to watch."""
        self.clock = clock
        self.delivery_stuck_after = delivery_stuck_after
        self._lock = threading.Lock()
        self._watched_since = clock()
        self._scheduler: Run | None = None
        self._delivery: Run | None = None
        self._delivered_at: datetime | None = None

    def scheduler_ran(self, error: BaseException | str | None = None, *, job: str = "") -> None:
        """The scheduler finished a run of ``job``: ``error`` is what it raised, if it did."""
        with self._lock:
            self._scheduler = Run(self.clock(), _error_type(error), job)

    def delivery_passed(self, error: BaseException | str | None = None) -> None:
        """The delivery worker finished a pass (``error``: the pass failed with it)."""
        with self._lock:
            run = Run(self.clock(), _error_type(error))
            self._delivery = run
            if run.ok:
                self._delivered_at = run.at

    @property
    def scheduler(self) -> Run | None:
        return self._scheduler

    @property
    def delivery(self) -> Run | None:
        return self._delivery

    def reasons(self) -> list[str]:
        """Why this process is unhealthy; empty when it is healthy."""
        with self._lock:
            now = self.clock()
            found: list[str] = []
            run = self._scheduler
            if run is not None and not run.ok:
                job = f" of {run.job}" if run.job else ""
                found.append(
                    f"scheduler: the last run{job} (at {_when(run.at)}) failed with {run.error}"
                )
            limit = self.delivery_stuck_after
            since = self._delivered_at or self._watched_since
            if limit is not None and now - since > limit:
                waited = int((now - since).total_seconds())
                reason = (
                    f"delivery worker stuck: no completed pass for {waited} s"
                    f" (limit {int(limit.total_seconds())} s)"
                )
                last = self._delivery
                if last is not None and not last.ok:
                    reason += f"; the last pass (at {_when(last.at)}) failed with {last.error}"
                found.append(reason)
            return found

"""Explicit synchronisation for tests that must show something did *not* happen.

Sleeping and then asserting nothing happened proves nothing on a slow machine. Instead, wait for
a positive signal that the work which could have done the wrong thing has finished, then check
the negative.
"""

from __future__ import annotations

import threading
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import Executor, Future, wait
from typing import Any, TypeVar

from slack_bolt import App

T = TypeVar("T")


class TrackedExecutor(Executor):
    """Wraps Bolt's listener executor and remembers every task it was given, so a test can
    wait until all of them (and whatever they submitted in turn) have finished."""

    def __init__(self, inner: Executor) -> None:
        self._inner = inner
        self._lock = threading.Lock()
        self._futures: list[Future[Any]] = []

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future = self._inner.submit(fn, *args, **kwargs)
        with self._lock:
            self._futures.append(future)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._inner.shutdown(wait=wait, cancel_futures=cancel_futures)

    @property
    def submitted(self) -> int:
        """How many listener runs were started so far."""
        with self._lock:
            return len(self._futures)

    def wait_idle(self, timeout: float = 10.0) -> int:
        """Block until every task submitted so far has finished; returns how many there were.

        Fails the test (rather than returning quietly) when they do not finish in time."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                pending = [future for future in self._futures if not future.done()]
                total = len(self._futures)
            if not pending:
                return total
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"{len(pending)} Bolt listener run(s) still busy after {timeout}s"
                )
            wait(pending, timeout=remaining)


def track_listeners(app: App) -> TrackedExecutor:
    """Route the Bolt app's listener runs (``process_before_response=False`` runs every listener
    on this executor after acknowledging the request) through a :class:`TrackedExecutor`.

    Bolt submits the run before it answers the HTTP request, so once a request has been
    answered, :meth:`TrackedExecutor.wait_idle` covers everything that request started."""
    runner = app.listener_runner
    tracked = TrackedExecutor(runner.listener_executor)
    runner.listener_executor = tracked
    return tracked


def wait_until(condition: Callable[[], bool], *, timeout: float = 10.0) -> bool:
    """Poll for a positive signal (True as soon as ``condition()`` holds, False at the
    deadline). Tests wait for something that must happen this way; never sleep and then
    assert that nothing happened."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def responds(url: str) -> bool:
    """Whether ``url`` answers a GET now (a server that is up), for :func:`wait_until`."""
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False

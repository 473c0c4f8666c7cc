"""What the fakes use to behave like a busy platform: a rate limit answered with 429 and
``Retry-After``, and a share of transient 5xx errors."""

from __future__ import annotations

import random
import threading
import time


class Throttle:
    def __init__(
        self, per_second: float | None = None, *, error_rate: float = 0.0, seed: int = 7
    ) -> None:
        self.per_second = per_second
        self.error_rate = error_rate
        self.throttled = 0
        self.errors = 0
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._window = 0
        self._count = 0

    def check(self) -> int | None:
        """None to let the request through, else the HTTP status to answer with."""
        with self._lock:
            if self.per_second is not None:
                window = int(time.monotonic() * 10)  # tenths of a second: no bursts at the edge
                if window != self._window:
                    self._window, self._count = window, 0
                self._count += 1
                if self._count > self.per_second / 10:
                    self.throttled += 1
                    return 429
            if self.error_rate and self._random.random() < self.error_rate:
                self.errors += 1
                return 500
        return None

"""The platform fakes (tests/bot/slack_fake.py, tests/bot/teams_fake.py) in processes of their own,
rate limited and failing 1 % of requests like the real services, so that serving them does not
take the delivering process's CPU and GIL.

    with FakeProcess("teams", limit=100, error_rate=0.01, seed=2) as connector:
        connector.url ... connector.report()   # what it received, as counts

Run as ``python bench/fakes.py slack|teams LIMIT ERROR_RATE SEED``: prints its URL, then
answers every ``report`` line on stdin with one JSON line; ends on ``stop`` or end of input.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


class FakeProcess:
    def __init__(self, platform: str, *, limit: float, error_rate: float, seed: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__)), platform, str(limit), str(error_rate), str(seed)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.url = json.loads(self.process.stdout.readline())["url"]

    def report(self) -> dict[str, Any]:
        """``per_conversation`` (messages that arrived, per DM or conversation), ``throttled``
        (429s), ``errors`` (injected 5xx)."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("report\n")
        self.process.stdin.flush()
        return dict(json.loads(self.process.stdout.readline()))

    def stop(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.write("stop\n")
            self.process.stdin.close()
            self.process.wait(timeout=30)

    def __enter__(self) -> FakeProcess:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _serve(platform: str, limit: float, error_rate: float, seed: int) -> None:
    sys.path.insert(0, str(ROOT))
    from tests.bot.fake_limits import Throttle
    from tests.bot.slack_fake import FakeSlack
    from tests.bot.teams_fake import FakeConnector

    fake: Any = FakeSlack() if platform == "slack" else FakeConnector()
    fake.start()
    fake.throttle = Throttle(limit, error_rate=error_rate, seed=seed)
    print(json.dumps({"url": fake.url}), flush=True)

    def arrived() -> Counter[str]:
        if platform == "slack":
            return Counter({channel: len(ms) for channel, ms in fake.history.items()})
        return Counter(a["_conversation"] for a in list(fake.sent) if "_status" not in a)

    for line in sys.stdin:
        if line.strip() == "stop":
            break
        report = {
            "per_conversation": arrived(),
            "throttled": fake.throttle.throttled,
            "errors": fake.throttle.errors,
        }
        print(json.dumps(report), flush=True)
    fake.stop()


if __name__ == "__main__":
    _serve(sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]))

"""One ``regie serve``'s scheduler half, as a process of its own for the election test:
``python -m tests.bot.election_child DATABASE_URL RETRY_SECONDS``. Prints a line whenever its
scheduler runs a job, and its log lines (which say when it starts scheduling)."""

from __future__ import annotations

import logging
import sys
import threading

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent

from bot.config import Settings
from bot.scheduler import start_scheduler
from storage.db import make_engine


def main() -> None:
    url, retry = sys.argv[1], float(sys.argv[2])
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(name)s %(message)s")
    settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    scheduler = start_scheduler(settings, make_engine(url), retry_every=retry)

    def ran(event: JobExecutionEvent) -> None:
        outcome = "ok" if event.exception is None else type(event.exception).__name__
        print(f"job {event.job_id} ran: {outcome}", flush=True)

    scheduler.add_listener(ran, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    print("listening for its jobs", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()

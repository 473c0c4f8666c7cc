"""A platform's send budget shared through the database: whoever takes slots gets slots nobody
else has, never more than the rate allows in any window, and a pass that dies before it
commits takes nothing."""

from __future__ import annotations

import threading

from sqlmodel import Session, select

from storage.db import session_scope
from storage.models import SendBudget
from storage.send_budget import take

T0 = 1_800_000_000.0  # seconds since the epoch, from the caller's clock (here: fixed)
RATE = 100.0


def slots(start: float, count: int, rate: float = RATE) -> list[float]:
    return [start + n / rate for n in range(count)]


def most_in_a_second(moments: list[float]) -> int:
    moments, most, first = sorted(moments), 0, 0
    for last, moment in enumerate(moments):
        while moment - moments[first] >= 1.0 - 1e-3:  # float error at 1.8e9 s: ~1e-6
            first += 1
        most = max(most, last - first + 1)
    return most


def test_slots_follow_each_other_and_unused_ones_go_back(any_engine) -> None:
    with session_scope(any_engine) as db:
        first = take(db, "slack", want=500, rate=RATE, now=T0, horizon=5.0)
        assert (first.start, first.slots) == (T0, 500)
        first.keep(db, 300)  # claimed only 300 messages
    with session_scope(any_engine) as db:
        second = take(db, "slack", want=500, rate=RATE, now=T0 + 0.5, horizon=5.0)
        # from the end of the kept slots, only those starting within the horizon
        assert second.start == T0 + 3.0 and second.slots == 250
        second.keep(db, 250)
        other = take(db, "teams", want=10, rate=RATE, now=T0 + 0.5, horizon=5.0)
        assert (other.start, other.slots) == (T0 + 0.5, 10)  # a budget per platform
        other.keep(db, 10)
    with session_scope(any_engine) as db:
        none_left = take(db, "slack", want=500, rate=RATE, now=T0 + 0.5, horizon=5.0)
        assert none_left.slots == 0 and none_left.free_at == T0 + 5.5
        none_left.keep(db, 0)
        later = take(db, "slack", want=500, rate=RATE, now=T0 + 60, horizon=5.0)
        assert (later.start, later.slots) == (T0 + 60, 500)  # idle time is not saved up
        later.keep(db, 0)
    with Session(any_engine) as db:
        stored = {b.name: b.free_from for b in db.exec(select(SendBudget))}
    assert stored == {"slack": T0 + 60, "teams": T0 + 0.6}


def test_a_pass_that_dies_before_committing_takes_nothing(any_engine) -> None:
    with session_scope(any_engine) as db:
        take(db, "slack", want=10, rate=RATE, now=T0, horizon=5.0).keep(db, 10)
    try:
        with session_scope(any_engine) as db:
            take(db, "slack", want=500, rate=RATE, now=T0, horizon=5.0).keep(db, 490)
            raise RuntimeError("the process dies before its claim commits")
    except RuntimeError:
        pass
    with session_scope(any_engine) as db:
        after = take(db, "slack", want=500, rate=RATE, now=T0, horizon=5.0)
    assert after.start == T0 + 0.1 and after.slots == 490  # the dead pass's slots are free


def test_concurrent_takers_never_share_a_slot_nor_exceed_the_rate(any_engine) -> None:
    """Four processes' passes at once, each keeping a varying part of what it took, over 30
    seconds of the shared clock: every slot given once, at most RATE in any second."""
    given: list[float] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        for step in range(60):
            now = T0 + step * 0.5 + n * 0.01
            with session_scope(any_engine) as db:
                taken = take(db, "slack", want=120 + 37 * n, rate=RATE, now=now, horizon=2.0)
                taken.keep(db, taken.slots - (step + n) % 3)
                mine = slots(taken.start, taken.slots)
            with lock:
                given.extend(mine)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    rounded = [round(moment, 6) for moment in given]
    assert len(set(rounded)) == len(rounded) > 2000  # every slot to one taker; most were used
    assert most_in_a_second(given) <= RATE


def test_a_short_run_is_not_worth_a_pass_and_runs_keep_a_gap(any_engine) -> None:
    with session_scope(any_engine) as db:
        take(db, "slack", want=500, rate=RATE, now=T0, horizon=5.0).keep(db, 450)  # to T0 + 4.5
    with session_scope(any_engine) as db:
        short = take(db, "slack", want=500, rate=RATE, now=T0 + 1, horizon=5.0, at_least=200)
        assert short.slots == 0 and short.offered == 0 and short.free_at == T0 + 4.5
        short.keep(db, 0)
        spaced = take(db, "slack", want=500, rate=RATE, now=T0 + 3, horizon=5.0, gap=0.02)
        assert spaced.start == T0 + 4.52 and spaced.slots == 348  # starting before T0 + 8
        spaced.keep(db, 348)
    with session_scope(any_engine) as db:
        few = take(db, "slack", want=3, rate=RATE, now=T0 + 3.5, horizon=5.0, at_least=100)
        assert few.slots == 3  # all it wants, though fewer than at_least

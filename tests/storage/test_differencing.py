"""No hidden cell can be worked out from the shown ones and the total: every subtraction over
the published cells is tried, for every table small enough to enumerate (complementary
suppression, ``MinimumGroup.partition``), and HR's distribution of experiments done uses it."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session

from storage.models import Experiment, Person
from storage.privacy import HIDDEN, Cells, MinimumGroup
from storage.reports import participation


def tables(cells: int, total: int) -> Iterator[tuple[int, ...]]:
    """Every way ``total`` people fall into ``cells`` cells."""
    for cut in itertools.combinations(range(total + cells - 1), cells - 1):
        edges = (-1, *cut, total + cells - 1)
        yield tuple(edges[i + 1] - edges[i] - 1 for i in range(cells))


def what_an_attacker_learns(
    rule: MinimumGroup, published: Cells, total: int
) -> tuple[int, dict[int, set[int]]]:
    """From the shown cells, the total and the markers alone: the sum of the hidden cells
    (total minus every shown cell), and each hidden cell's possible values. A ``<K`` cell is
    1..K-1 (0..total in a group under K); an ``×`` cell is anything from 1 (from 0 when every
    cell is hidden), since 0 is always shown otherwise."""
    hidden = [i for i, c in enumerate(published.counts) if c is None]
    together = total - sum(c for c in published.counts if c is not None)
    small = total < rule.k
    if published.marker == HIDDEN:
        low, high = (0 if small or len(hidden) == len(published) else 1), total
    else:
        low, high = (0, total) if small else (1, rule.k - 1)
    possible: dict[int, set[int]] = {}
    for i in hidden:
        rest = len(hidden) - 1
        possible[i] = {v for v in range(low, high + 1) if rest * low <= together - v <= rest * high}
    return together, possible


def subtractions(published: Cells, total: int) -> Iterator[tuple[frozenset[int], int]]:
    """Every subtraction over the published cells: the total minus any set of shown cells,
    with the cells that this leaves unaccounted for."""
    shown = [i for i, c in enumerate(published.counts) if c is not None]
    for n in range(len(shown) + 1):
        for taken in itertools.combinations(shown, n):
            rest = frozenset(range(len(published))) - set(taken)
            yield rest, total - sum(published.counts[i] or 0 for i in taken)


@pytest.mark.parametrize("k", [3, 4, 5, 6])
@pytest.mark.parametrize(("cells", "most", "sensitive"), [(4, 16, None), (5, 12, {4})])
def test_no_hidden_cell_can_be_worked_out_by_any_subtraction(
    k: int, cells: int, most: int, sensitive: set[int] | None
) -> None:
    rule = MinimumGroup(k)
    for total in range(1, most + 1):
        for table in tables(cells, total):
            published = rule.partition(table, sensitive=sensitive)
            hidden = {i for i, c in enumerate(published.counts) if c is None}
            if not hidden:
                continue
            for rest, value in subtractions(published, total):
                if len(rest) == 1 and rest <= hidden:
                    pytest.fail(f"{table} as {published}: cell {set(rest)} = {value}")
                if rest == hidden:  # what the hidden cells hold together
                    assert value >= k or value == total, (table, published)
            together, possible = what_an_attacker_learns(rule, published, total)
            assert together == sum(table[i] for i in hidden)
            for i, values in possible.items():
                assert table[i] in values and len(values) >= 2, (table, published, i, values)
            if sensitive is None:  # every cell is a count of people: shown only 0 or >= K
                assert all(c is None or c == 0 or c >= k for c in published.counts)


def test_the_issue_example_no_longer_gives_the_hidden_cells_away() -> None:
    """Cells <5, 5, 6, <5 of 14 told the two hidden ones held 3 people."""
    published = MinimumGroup(5).partition([2, 5, 6, 1])
    assert published.counts == (None, None, 6, None) and published.marker == HIDDEN
    assert published.shown(1) == "×"


def test_when_small_cells_hide_each_other_they_keep_saying_under_k() -> None:
    published = MinimumGroup(5).partition([3, 4, 20, 9])
    assert published.counts == (None, None, 20, 9) and published.shown(0) == "<5"


def test_hr_distribution_of_experiments_done_is_protected_as_a_whole(any_engine) -> None:
    done = datetime(2026, 6, 1, tzinfo=UTC)
    with Session(any_engine) as db:
        people = [Person(email=f"p{n}@example.com", name=f"P{n}") for n in range(14)]
        db.add_all(people)
        db.flush()
        # 0 done: 2 people, 1 done: 5, 2 done: 6, 3 or more: 1 (the issue's example)
        for n, person in enumerate(people):
            count = 0 if n < 2 else 1 if n < 7 else 2 if n < 13 else 3
            db.add_all(
                Experiment(person_id=person.id, title="x", status="done", done_at=done)
                for _ in range(count)
            )
        db.commit()
        report = participation(db, start=date(2026, 1, 1), end=date(2026, 12, 31), min_group=5)
    cells = {r.period: report.cell(r) for r in report.rows if r.metric.startswith("experiments")}
    people_row = next(r for r in report.rows if r.metric == "people")
    assert report.cell(people_row) == "14"
    assert cells == {"0/3": "×", "1/3": "×", "2/3": "6", "3+/3": "×"}

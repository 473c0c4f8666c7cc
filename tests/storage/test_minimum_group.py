"""The one <K rule (storage.privacy.MinimumGroup), as every report, figure and team count uses
it."""

from __future__ import annotations

import pytest

from storage.privacy import MinimumGroup


def test_k_is_the_configured_size_but_never_below_the_floor() -> None:
    assert MinimumGroup.configured(1).k == 3
    assert MinimumGroup.configured(7).k == 7


@pytest.mark.parametrize(
    ("people", "group", "shown"),
    [
        (6, 6, "6"),  # a large enough count of a large enough group
        (5, 9, "5"),
        (4, 9, "<5"),  # would single people out
        (1, 9, "<5"),
        (0, 9, "0"),  # nobody is singled out by "nobody"
        (0, 4, "<5"),  # but nothing is shown about a group under K
        (4, 4, "<5"),
    ],
)
def test_counts_of_people_are_shown_only_when_they_single_nobody_out(
    people: int, group: int, shown: str
) -> None:
    rule = MinimumGroup(5)
    assert rule.cell(rule.count(people, group=group)) == shown
    assert rule.allows_group(group) is (group >= 5)

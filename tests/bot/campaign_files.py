"""What the campaign command tests share (a plugin, see tests/conftest.py): ``demo``, the example
campaign files copied next to a fresh demo organisation, and ``before_day_0``, the test process
a week before the example's day 0 (a module opts in with
``pytestmark = pytest.mark.usefixtures("before_day_0")``)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from tests.bot.conftest import Run

ROOT = Path(__file__).resolve().parents[2]
BEFORE_DAY_0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
"""A week before the example campaign's day 0 (Monday 7 December)."""


@pytest.fixture
def before_day_0() -> Iterator[None]:
    with time_machine.travel(BEFORE_DAY_0, tick=True):
        yield


@pytest.fixture
def demo(run: Run, tmp_path: Path) -> Path:
    """The demo organisation, and a copy of campaigns/ to edit: its growth-week file."""
    assert run("init").returncode == 0
    assert run("demo").returncode == 0
    shutil.copytree(ROOT / "campaigns", tmp_path / "campaigns")
    return tmp_path / "campaigns" / "growth-week.yaml"

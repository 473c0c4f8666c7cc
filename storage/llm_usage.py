"""Token use of the optional AI features: one row per request, the monthly total the budget
is checked against before every request, and the totals per month and feature."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from storage.models import LlmUsage


@dataclass(frozen=True)
class UsageTotal:
    month: str
    feature: str
    requests: int
    prompt_tokens: int
    completion_tokens: int

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def month_of(now: datetime) -> str:
    return now.strftime("%Y-%m")


def tokens_used(db: Session, month: str) -> int:
    """Prompt and completion tokens of every feature in ``month``."""
    total = db.exec(
        select(func.sum(LlmUsage.prompt_tokens + LlmUsage.completion_tokens)).where(
            LlmUsage.month == month
        )
    ).one()
    return int(total or 0)


def record_usage(
    db: Session,
    *,
    feature: str,
    prompt_tokens: int,
    completion_tokens: int,
    now: datetime,
) -> None:
    db.add(
        LlmUsage(
            month=month_of(now),
            feature=feature,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            at=now,
        )
    )
    db.flush()


def usage_totals(db: Session) -> list[UsageTotal]:
    """Requests and tokens per month and feature, newest month first."""
    rows = db.connection().execute(
        sa.select(
            col(LlmUsage.month),
            col(LlmUsage.feature),
            func.count(col(LlmUsage.id)),
            func.sum(col(LlmUsage.prompt_tokens)),
            func.sum(col(LlmUsage.completion_tokens)),
        )
        .group_by(col(LlmUsage.month), col(LlmUsage.feature))
        .order_by(col(LlmUsage.month).desc(), col(LlmUsage.feature))
    )
    return [
        UsageTotal(month, feature, int(n), int(prompt or 0), int(completion or 0))
        for month, feature, n, prompt, completion in rows
    ]

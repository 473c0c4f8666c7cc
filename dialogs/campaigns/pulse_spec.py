"""The ``pulse:`` section of a campaign file: a learning-needs pulse (a few scale, choice and
optional free-text questions, answered anonymously from a step's ``pulse`` button).

A pulse is a campaign: the same audience, launch, outbox, calm, reminders (a later step with
``only: not_responded``), "not now" (``remind_tomorrow``) and "no thanks" (``not_for_me``).
What it adds is the questions, the day it closes and whether HR may read the written answers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

SCALE = "scale"
CHOICE = "choice"
TEXT = "text"
ACTION = "pulse"
"""The button that starts the questions (``actions: [pulse]`` on a step)."""
SCALE_POINTS = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class PulseChoice:
    id: str
    label: dict[str, str]


@dataclass(frozen=True)
class PulseQuestion:
    id: str
    kind: str
    text: dict[str, str]
    low: dict[str, str] | None = None
    high: dict[str, str] | None = None
    choices: tuple[PulseChoice, ...] = ()

    def choice(self, choice_id: str) -> PulseChoice | None:
        return next((c for c in self.choices if c.id == choice_id), None)

    @property
    def values(self) -> tuple[str, ...]:
        """Every answer a scale or choice question can have, in order (text: none)."""
        if self.kind == SCALE:
            return tuple(str(n) for n in SCALE_POINTS)
        return tuple(c.id for c in self.choices)


@dataclass(frozen=True)
class Pulse:
    closes: date
    """The last day answers are taken (in every time zone: it ends at the end of that day
    anywhere on earth, UTC-12)."""
    questions: tuple[PulseQuestion, ...]
    show_free_text: bool = False

    def question(self, question_id: str) -> PulseQuestion | None:
        return next((q for q in self.questions if q.id == question_id), None)

    @property
    def has_free_text(self) -> bool:
        return any(q.kind == TEXT for q in self.questions)


def read(data: Mapping[str, Any] | None, default: str) -> Pulse | None:
    """The pulse of checked (or stored) campaign data, or None."""
    if not data:
        return None

    def loc(value: Any) -> dict[str, str]:
        if isinstance(value, str):
            return {default: value}
        return {str(k): str(v) for k, v in value.items()}

    return Pulse(
        closes=date.fromisoformat(data["closes"]),
        show_free_text=bool(data.get("show_free_text", False)),
        questions=tuple(
            PulseQuestion(
                id=q["id"],
                kind=q["kind"],
                text=loc(q["text"]),
                low=loc(q["low"]) if "low" in q else None,
                high=loc(q["high"]) if "high" in q else None,
                choices=tuple(PulseChoice(c["id"], loc(c["label"])) for c in q.get("choices", [])),
            )
            for q in data["questions"]
        ),
    )


def problems(data: Mapping[str, Any]) -> Iterator[tuple[list[str | int], str]]:
    """What the schema cannot check about a campaign file's pulse (paths and messages)."""
    pulse = data.get("pulse")
    offering = [
        (index, step)
        for index, step in enumerate(data["steps"])
        if ACTION in step.get("actions", [])
    ]
    if pulse is None:
        for index, _ in offering:
            yield ["steps", index, "actions"], "the pulse button needs a 'pulse' section"
        return
    if not offering:
        yield ["pulse"], "no step offers it: add 'pulse' to a step's actions"
    ids: list[str] = []
    for index, question in enumerate(pulse["questions"]):
        at: list[str | int] = ["pulse", "questions", index]
        if question["id"] in ids:
            yield [*at, "id"], f"question id {question['id']!r} is used twice"
        ids.append(question["id"])
        kind = question["kind"]
        if kind == CHOICE and "choices" not in question:
            yield at, "a choice question needs its choices"
        if kind != CHOICE and "choices" in question:
            yield [*at, "choices"], "only a choice question has choices"
        for end in ("low", "high"):
            if kind != SCALE and end in question:
                yield [*at, end], "only a scale question has low and high labels"
        choice_ids = [c["id"] for c in question.get("choices", [])]
        for n, choice_id in enumerate(choice_ids):
            if choice_ids.index(choice_id) != n:
                yield [*at, "choices", n, "id"], f"choice id {choice_id!r} is used twice"
    if data.get("start", "start_date") == "start_date":
        return
    try:
        start, closes = date.fromisoformat(data["start"]), date.fromisoformat(pulse["closes"])
    except ValueError:
        return
    for index, step in offering:
        if "day" in step and start + timedelta(days=int(step["day"])) > closes:
            yield (
                ["steps", index, "day"],
                f"goes out after the pulse closes ({closes.isoformat()})",
            )

"""Hostile text a person might write, shared into their manager's digest, and the checks that it
renders as text on both platforms: no link, no mention, no markup of any kind.

The Teams check renders every TextBlock with a CommonMark renderer that lets raw HTML through
(``markdown-it-py``, the worst case for a card renderer): nothing may come out as a link, an
image or HTML of the person's making. The Slack check: every mrkdwn text is escaped (no ``<``
left that could open a link, mention or ``<!channel>``) and ``verbatim`` (Slack auto-links
nothing)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from markdown_it import MarkdownIt
from sqlmodel import Session

from storage.models import Experiment, ExperimentStatus, Person, Visibility

HOSTILE = (
    "<!channel> <https://evil.example|click> @here [x](https://evil.example) **bold** "
    '<a href="https://evil.example">tap</a> ![img](https://evil.example/p.png) `code`'
)
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def share_hostile_experiment(engine: Any, manager_id: int) -> int:
    """A direct report of ``manager_id`` who shared a done experiment titled :data:`HOSTILE`
    (and learned it too)."""
    with Session(engine) as db:
        report = Person(
            email="kim@example.com", name="Kim Jones", manager_id=manager_id, welcomed_at=NOW
        )
        db.add(report)
        db.flush()
        assert report.id is not None
        recent = NOW - timedelta(days=2)
        db.add(
            Experiment(
                person_id=report.id,
                title=HOSTILE,
                status=ExperimentStatus.DONE,
                learned=HOSTILE,
                visibility=Visibility.MANAGER,
                created_at=recent,
                updated_at=recent,
                done_at=recent,
            )
        )
        db.commit()
        return report.id


def assert_no_link_in_card(card: dict[str, Any]) -> None:
    markdown = MarkdownIt("commonmark", {"html": True})
    texts = [e["text"] for e in _elements(card) if e.get("type") == "TextBlock"]
    assert any("evil.example" in text for text in texts), "the hostile text is not in the card"
    for text in texts:
        html = markdown.render(text)
        assert not re.search(r"<(a|img|code|strong|em)\b", html), (text, html)
    for action in _elements(card):
        if action.get("type") == "Action.OpenUrl":
            assert "evil.example" not in action["url"]


def assert_no_link_in_blocks(blocks: list[dict[str, Any]]) -> None:
    texts = [node for node in _elements(blocks) if node.get("type") == "mrkdwn"]
    assert any("evil.example" in node["text"] for node in texts), "the hostile text is missing"
    for node in texts:
        assert node.get("verbatim") is True, node
        assert "<" not in node["text"], node  # escaped: no <link|…>, <!channel>, <@U…>


def _elements(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found += _elements(value)
    elif isinstance(node, list):
        for item in node:
            found += _elements(item)
    return found

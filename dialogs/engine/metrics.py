"""What a figure in HR's reports is called and what exactly it counts, from content
(``metrics.<report>.<key>``: a friendly name and a one-line definition). The chat, the terminal,
the CSV files and the HTML page all name a figure through here, so they never disagree and no
raw key (``experiment_planned``) reaches a reader."""

from __future__ import annotations

from dataclasses import dataclass

from dialogs.engine.content import Content


@dataclass(frozen=True)
class Metric:
    key: str
    """Stable across languages and rewordings: what a script or a spreadsheet formula keys on."""
    name: str
    definition: str


def metric(content: Content, lang: str, report: str, key: str) -> Metric:
    """The figure ``key`` of ``report`` (``participation``, ``campaign``) in ``lang``."""
    at = f"metrics.{report}.{key}"
    return Metric(key, content.text(lang, f"{at}.name"), content.text(lang, f"{at}.definition"))


def metrics(content: Content, lang: str, report: str, keys: list[str]) -> list[Metric]:
    """Each of ``keys`` once, in the order given: the definitions list under a report."""
    return [metric(content, lang, report, key) for key in dict.fromkeys(keys)]

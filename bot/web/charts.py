"""Charts drawn on the server as SVG: no script, no third-party request, readable without
colour (the points carry their value) and with a text alternative (``<title>``/``<desc>``, and
the page shows the same figures as a table).

Colours are presentation attributes and classes, never ``style=""``: the pages' Content-Security-
Policy (``style-src 'self'``) refuses inline styles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape


@dataclass(frozen=True)
class ChartPoint:
    label: str
    """The point's moment as the reader's language writes it (its date)."""
    value: int


@dataclass(frozen=True)
class Scale:
    low: int
    high: int
    low_label: str
    high_label: str


WIDTH = 640
HEIGHT = 220
LEFT, RIGHT, TOP, BOTTOM = 72, 16, 16, 40


def line_chart(
    points: Sequence[ChartPoint],
    *,
    scale: Scale,
    title: str,
    description: str,
    chart_id: str,
) -> Markup:
    """A line over ``points`` (oldest first) on ``scale``: an accessible ``<svg role="img">``
    named by its ``<title>`` and described by ``<desc>``. ``chart_id`` makes the ids unique on
    the page. An empty series draws the axes only."""
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    span = max(scale.high - scale.low, 1)

    def x(index: int) -> float:
        if len(points) == 1:
            return LEFT + plot_w / 2
        return LEFT + plot_w * index / (len(points) - 1)

    def y(value: int) -> float:
        clipped = min(max(value, scale.low), scale.high)
        return TOP + plot_h * (scale.high - clipped) / span

    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    parts = [
        f'<svg class="chart" id="{escape(chart_id)}" role="img" viewBox="0 0 {WIDTH} {HEIGHT}"'
        f' aria-labelledby="{escape(title_id)} {escape(desc_id)}"'
        ' xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{escape(title_id)}">{escape(title)}</title>',
        f'<desc id="{escape(desc_id)}">{escape(description)}</desc>',
    ]
    for level in range(scale.low, scale.high + 1):
        parts.append(
            f'<line class="chart-grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(level):.1f}"'
            f' y2="{y(level):.1f}" stroke="#d8dde3" stroke-width="1"/>'
        )
        parts.append(
            f'<text class="chart-axis" x="{LEFT - 8}" y="{y(level) + 4:.1f}" text-anchor="end"'
            f' font-size="12" fill="#404a55">{level}</text>'
        )
    parts.append(
        f'<text class="chart-axis" x="4" y="{y(scale.high) + 4:.1f}" font-size="11"'
        f' fill="#404a55">{escape(scale.high_label)}</text>'
    )
    parts.append(
        f'<text class="chart-axis" x="4" y="{y(scale.low) + 4:.1f}" font-size="11"'
        f' fill="#404a55">{escape(scale.low_label)}</text>'
    )
    if points:
        line = " ".join(f"{x(i):.1f},{y(p.value):.1f}" for i, p in enumerate(points))
        parts.append(
            f'<polyline class="chart-line" points="{line}" fill="none" stroke="#1f5f8b"'
            ' stroke-width="2.5" stroke-linejoin="round"/>'
        )
        for i, point in enumerate(points):
            parts.append(
                f'<circle class="chart-point" cx="{x(i):.1f}" cy="{y(point.value):.1f}" r="4.5"'
                f' fill="#1f5f8b"><title>{escape(point.label)}: {point.value}</title></circle>'
            )
        ends = [(0, "start"), (len(points) - 1, "end")] if len(points) > 1 else [(0, "middle")]
        for i, anchor in ends:
            parts.append(
                f'<text class="chart-axis" x="{x(i):.1f}" y="{HEIGHT - 12}"'
                f' text-anchor="{anchor}" font-size="12" fill="#404a55">'
                f"{escape(points[i].label)}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))

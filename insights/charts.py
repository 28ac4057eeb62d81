"""Bar charts drawn on the server as SVG geometry: readable without JavaScript, no inline style
(colours come from classes in plangate.css; sizes are SVG presentation attributes), and each
chart carries a <title>, a description and its numbers as a table for screen readers."""

from __future__ import annotations

from dataclasses import dataclass, field

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 36


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int
    label: str  # e.g. "2026-11-02, median: 5.0 h"


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Category:
    x: float  # the centre of the group
    label: str
    y: float = 0  # the label's baseline (every other one lower when they are crowded)


@dataclass
class Chart:
    slug: str
    title: str
    description: str
    unit: str
    series: list[str]
    bars: list[Bar] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    categories: list[Category] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    empty: bool = False

    @property
    def baseline(self) -> float:
        return self.height - BOTTOM

    @property
    def left(self) -> int:
        return LEFT

    @property
    def right(self) -> int:
        return self.width - RIGHT


def _nice_max(value: float) -> float:
    """A round top for the axis at or above `value` (1, 2, 2.5 or 5 times a power of ten)."""
    return _nice(value)[0]


def _nice(value: float) -> tuple[float, int]:
    """(top, number of tick intervals) so that every tick is a round number."""
    if value <= 0:
        return 1, 4
    power = 10 ** (len(str(int(value))) - 1) if value >= 1 else 1
    for step, ticks in ((1, 4), (2, 4), (2.5, 5), (5, 5), (10, 5)):
        if step * power >= value:
            return step * power, ticks
    return 10 * power, 5


def _fmt(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.1f}"


def bar_chart(*, slug: str, title: str, description: str, unit: str, categories: list[str],
              series: list[tuple[str, list[float | None]]], counts: bool = False) -> Chart:
    """Grouped bars: one group per category, one bar per series (None draws no bar).
    `counts`: whole numbers, so the axis has no fractional ticks."""
    chart = Chart(slug=slug, title=title, description=description, unit=unit,
                  series=[name for name, _ in series])
    values = [v for _, vs in series for v in vs if v is not None]
    chart.empty = not any(values)
    top, ticks = _nice(max(values, default=0))
    if counts and top <= 5:
        top = max(top, 1)
        ticks = int(top)
    plot_h = chart.baseline - TOP
    plot_w = chart.right - LEFT
    chart.ticks = [Tick(chart.baseline - plot_h * i / ticks, f"{top * i / ticks:g}")
                   for i in range(ticks + 1)]
    if not categories:
        return chart
    group_w = plot_w / len(categories)
    bar_w = group_w * 0.8 / max(len(series), 1)
    every = max(1, round(len(categories) / 8))  # at most ~8 axis labels
    crowded = group_w * every < 7 * max(len(c) for c in categories)
    for i, category in enumerate(categories):
        x0 = LEFT + i * group_w + group_w * 0.1
        if i % every == 0:
            low = crowded and (i // every) % 2 == 1
            chart.categories.append(Category(round(LEFT + (i + 0.5) * group_w, 1), category,
                                             chart.baseline + (29 if low else 16)))
        for s, (name, vs) in enumerate(series):
            value = vs[i]
            if value is None:
                continue
            h = plot_h * value / top
            chart.bars.append(Bar(round(x0 + s * bar_w, 1), round(chart.baseline - h, 1),
                                  round(max(bar_w - 1, 1), 1), round(h, 1), s,
                                  f"{category}, {name}: {_fmt(value)}{unit}"))
    return chart

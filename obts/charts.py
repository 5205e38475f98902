"""Bar charts of the statistical reports, drawn by the server as SVG.

The geometry is computed here; ``obts/templates/obts/partials/bar_chart.html`` only draws
it. No JavaScript and no ``style`` attributes: the Content-Security-Policy refuses inline
styles, so colours come from classes in ``static/css/portal.css`` and positions from SVG
attributes. Every chart carries a title and a description in words; the report's table
below it remains the data.

Categorical reports get horizontal bars, largest first, capped at ``MAX_CATEGORIES`` with
the rest added up in an "Other" bar. Reports over time (months) get vertical bars in
their own order, never capped.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from math import ceil

from obts.reports import Report

MAX_CATEGORIES = 15
OTHER = "Other"
MIN_STEPS = 3
MAX_STEPS = 5

# Sizes in SVG user units; the SVG scales to the width of its container.
WIDTH = 720
PAD = 8
LABEL_CHARS = 30
# Horizontal charts: category names on the left, the count right of each bar.
LABEL_WIDTH = 220
VALUE_ROOM = 64
ROW = 28
BAR = 20
AXIS_ROOM = 28
# Vertical charts: gridline numbers on the left, month names below.
AXIS_WIDTH = 56
TOP_ROOM = 24
PLOT_HEIGHT = 240
BOTTOM_ROOM = 32
BAR_SHARE = 0.7
MIN_LABEL_GAP = 48
MIN_VALUE_GAP = 32


@dataclass(frozen=True)
class Bar:
    """One bar: its category and count, the rectangle, and where its texts go. The texts
    are hidden where bars are too narrow for them (``show_label``, ``show_value``)."""

    label: str
    value: int
    x: float
    y: float
    width: float
    height: float
    label_x: float
    label_y: float
    value_x: float
    value_y: float
    show_label: bool = True
    show_value: bool = True
    other: bool = False

    @property
    def short_label(self) -> str:
        return shorten(self.label)

    @property
    def value_text(self) -> str:
        return f"{self.value:,}"


@dataclass(frozen=True)
class Tick:
    """A gridline across the plot at ``value``, and where its number is written."""

    value: int
    x1: float
    y1: float
    x2: float
    y2: float
    text_x: float
    text_y: float

    @property
    def text(self) -> str:
        return f"{self.value:,}"


@dataclass(frozen=True)
class BarChart:
    ident: str
    title: str
    description: str
    horizontal: bool
    width: int
    height: int
    axis_max: int
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]

    @property
    def label_anchor(self) -> str:
        return "end" if self.horizontal else "middle"

    @property
    def value_anchor(self) -> str:
        return "start" if self.horizontal else "middle"

    @property
    def tick_anchor(self) -> str:
        return "middle" if self.horizontal else "end"


def nice_axis(maximum: int) -> tuple[int, int]:
    """The end of the value axis and the step between its gridlines, for counts up to
    ``maximum``: the step is 1, 2 or 5 times a power of ten, the end a whole number of
    steps (3 to 5 of them) at or above ``maximum``."""
    maximum = max(maximum, 0)
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * magnitude
            if maximum <= step * MAX_STEPS:
                return step * max(MIN_STEPS, ceil(maximum / step)), step
        magnitude *= 10


def shorten(label: str, limit: int = LABEL_CHARS) -> str:
    """``label`` cut to ``limit`` characters with an ellipsis; the bar's own title and
    the table keep the whole of it."""
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def report_chart(report: Report) -> BarChart | None:
    """The chart of ``report``, or None when the report has no rows."""
    if not report.rows:
        return None
    spec = report.chart
    totals = dict.fromkeys(spec.categories, 0)
    for row in report.rows:
        key = str(row[spec.by])
        totals[key] = totals.get(key, 0) + int(row[-1])
    items = list(totals.items())
    ident = f"chart-{report.slug}"
    if spec.over_time:
        # Months are YYYY-MM: sorting the labels sorts them by date.
        return vertical_bar_chart(ident, spec.title, sorted(items))
    return horizontal_bar_chart(ident, spec.title, items, noun=report.columns[spec.by].lower())


def horizontal_bar_chart(
    ident: str, title: str, items: Sequence[tuple[str, int]], *, noun: str = "category"
) -> BarChart:
    """Horizontal bars, largest first (ties by label), the ``MAX_CATEGORIES`` largest
    and then one "Other" bar adding up the rest."""
    ordered = sorted(items, key=lambda item: (-item[1], item[0]))
    shown = [(label, value, False) for label, value in ordered[:MAX_CATEGORIES]]
    rest = ordered[MAX_CATEGORIES:]
    if rest:
        shown.append((OTHER, sum(value for _, value in rest), True))
    axis_max, step = nice_axis(max((value for _, value, _ in shown), default=0))
    plot_width = WIDTH - LABEL_WIDTH - VALUE_ROOM
    plot_bottom = PAD + len(shown) * ROW

    def along(value: int) -> float:
        return _round(LABEL_WIDTH + _scale(value, axis_max, plot_width))

    bars = []
    for index, (label, value, other) in enumerate(shown):
        y = PAD + index * ROW + (ROW - BAR) / 2
        width = _scale(value, axis_max, plot_width)
        bars.append(
            Bar(
                label=label,
                value=value,
                x=LABEL_WIDTH,
                y=y,
                width=width,
                height=BAR,
                label_x=LABEL_WIDTH - PAD,
                label_y=y + BAR / 2,
                value_x=_round(LABEL_WIDTH + width + 6),
                value_y=y + BAR / 2,
                other=other,
            )
        )
    ticks = [
        Tick(
            value=value,
            x1=along(value),
            y1=PAD,
            x2=along(value),
            y2=plot_bottom,
            text_x=along(value),
            text_y=plot_bottom + 18,
        )
        for value in range(0, axis_max + 1, step)
    ]
    description = _describe(
        "Horizontal bar chart",
        title,
        ordered,
        shape=_count(len(shown), "bar") + (", largest first" if len(shown) > 1 else ""),
        extremes=("Largest", "Smallest"),
    )
    if rest:
        description += (
            f" Bars for the {MAX_CATEGORIES} largest of {len(ordered)} categories (by {noun});"
            f" the other {len(rest)} are added up in the bar “{OTHER}”:"
            f" {sum(value for _, value in rest):,}."
        )
    return BarChart(
        ident=ident,
        title=title,
        description=description + " The table below gives every number.",
        horizontal=True,
        width=WIDTH,
        height=plot_bottom + AXIS_ROOM,
        axis_max=axis_max,
        bars=tuple(bars),
        ticks=tuple(ticks),
    )


def vertical_bar_chart(ident: str, title: str, items: Sequence[tuple[str, int]]) -> BarChart:
    """Vertical bars in the order given (months, oldest first). Where bars get too narrow
    only every few months are named and the counts are left to the table."""
    axis_max, step = nice_axis(max((value for _, value in items), default=0))
    plot_width = WIDTH - AXIS_WIDTH - PAD
    plot_bottom = TOP_ROOM + PLOT_HEIGHT
    slot = plot_width / max(len(items), 1)
    label_every = max(1, ceil(MIN_LABEL_GAP / slot))

    def up(value: int) -> float:
        return _round(plot_bottom - _scale(value, axis_max, PLOT_HEIGHT))

    bars = []
    for index, (label, value) in enumerate(items):
        x = _round(AXIS_WIDTH + index * slot + slot * (1 - BAR_SHARE) / 2)
        width = _round(slot * BAR_SHARE)
        bars.append(
            Bar(
                label=label,
                value=value,
                x=x,
                y=up(value),
                width=width,
                height=_scale(value, axis_max, PLOT_HEIGHT),
                label_x=_round(x + width / 2),
                label_y=plot_bottom + 18,
                value_x=_round(x + width / 2),
                value_y=_round(up(value) - 8),
                show_label=index % label_every == 0,
                show_value=slot >= MIN_VALUE_GAP,
            )
        )
    ticks = [
        Tick(
            value=value,
            x1=AXIS_WIDTH,
            y1=up(value),
            x2=WIDTH - PAD,
            y2=up(value),
            text_x=AXIS_WIDTH - 6,
            text_y=up(value),
        )
        for value in range(0, axis_max + 1, step)
    ]
    shape = _count(len(items), "bar")
    if len(items) > 1:
        shape += f", {items[0][0]} to {items[-1][0]}"
    description = _describe(
        "Vertical bar chart", title, list(items), shape=shape, extremes=("Highest", "Lowest")
    )
    return BarChart(
        ident=ident,
        title=title,
        description=description + " The table below gives every number.",
        horizontal=False,
        width=WIDTH,
        height=plot_bottom + BOTTOM_ROOM,
        axis_max=axis_max,
        bars=tuple(bars),
        ticks=tuple(ticks),
    )


def _describe(
    kind: str, title: str, items: list[tuple[str, int]], *, shape: str, extremes: tuple[str, str]
) -> str:
    """The chart in words: what it shows, the total, its largest and smallest bar."""
    total = sum(value for _, value in items)
    text = f"{kind} of {title.lower()}: {shape}; {total:,} in all."
    if not total:
        return f"{text} Every count is 0."
    top = max(items, key=lambda item: item[1])
    text += f" {extremes[0]}: {top[0]}, {top[1]:,} of {total:,}."
    if len(items) > 1:
        bottom = min(items, key=lambda item: item[1])
        text += f" {extremes[1]}: {bottom[0]}, {bottom[1]:,}."
    return text


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" if number == 1 else f"{number:,} {noun}s"


def _scale(value: int, axis_max: int, length: float) -> float:
    return _round(length * value / axis_max) if axis_max else 0.0


def _round(number: float) -> float:
    return round(number, 2)

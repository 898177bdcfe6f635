"""Line charts of daily figures, drawn on the server as inline SVG (templates/app/_line_chart.html).

Pure functions: no database, no clock. `line_chart` gives the geometry (the line, the axes, the limit
line and one point per day); `chart_context` adds what the template needs around it: a summary for the
SVG's <title>, a longer <desc> and the rows of the table of figures, the text alternative of the chart.

The SVG keeps its proportions (its viewBox is scaled as a whole), so text is never stretched; the
stylesheet sets the font size of its labels in viewBox units.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from html import escape
from itertools import count, pairwise

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import ngettext

# The viewBox and the plot inside it: the margins hold the value labels (left) and the dates (below),
# sized for the larger labels the stylesheet uses on a phone.
WIDTH = 360
HEIGHT = 200
LEFT = 46
RIGHT = WIDTH - 10
TOP = 22  # room for a label over a point at the top
BOTTOM = HEIGHT - 28

MAX_INTERVALS = 4  # so 3 to 5 value ticks, 0 included
ABBREVIATE_FROM = 10_000  # an axis reaching this writes its values in k and M
DATE_TICKS = 5
# Days closer than this (in viewBox units) get small dots.
DENSE_STEP = 8
# Where the latest value's label reaches, in viewBox units at the larger (phone) size of the labels: from
# LABEL_NEAR to LABEL_FAR over or under its point (the template's dy), LABEL_CHAR a character's width.
LABEL_NEAR = 8
LABEL_FAR = 21
LABEL_CHAR = 9


@dataclass(frozen=True)
class Tick:
    """A labelled position on an axis: `at` is x for a date, y for a value."""

    at: float
    label: str
    anchor: str = "middle"  # SVG text-anchor: the first and last dates align with the plot's edges


@dataclass(frozen=True)
class Point:
    day: date
    value: int
    x: float
    y: float
    r: float
    tooltip: str
    hit_x: float  # where the day's hover area starts


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    below: bool = False  # written under (x, y) rather than over it


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    line: str  # an SVG path: a new "M" after each day without a figure, so the line has a gap there
    points: list[Point]
    hit_width: float  # a day's hover area: the whole column between its neighbours
    limit_y: float | None
    limit_label: Label | None
    last_label: Label | None

    @property
    def plot_height(self) -> int:
        return self.bottom - self.top


def nice_ticks(top: int) -> list[int]:
    """Round values from 0 up to at least `top`, 1, 2 or 5 times a power of ten apart."""
    top = max(top, 1)
    step = next(
        multiple * 10**exponent
        for exponent in count()
        for multiple in (1, 2, 5)
        if -(-top // (multiple * 10**exponent)) <= MAX_INTERVALS
    )
    return [n * step for n in range(max(-(-top // step), 2) + 1)]


def tick_label(value: int, axis_top: int) -> str:
    """A value as the axis shows it: with a thousands comma, or in k and M on a large axis."""
    if axis_top < ABBREVIATE_FROM:
        return f"{value:,}"
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    return f"{value / 1_000:g}k" if value else "0"


def short_date(day: date) -> str:
    return f"{day:%b} {day.day}"


def long_date(day: date) -> str:
    return f"{day:%b} {day.day}, {day.year}"


def daily_window(series: Sequence[tuple[date, int]], days: int) -> dict[date, int]:
    """The figures of the `days` days ending with the latest one, oldest first, one per day."""
    if days < 1:
        raise ValueError("A chart shows at least one day.")
    if not series:
        return {}
    end = max(day for day, _ in series)
    first = end - timedelta(days=days - 1)
    return {day: value for day, value in sorted(series) if day >= first}


def line_chart(
    series: Sequence[tuple[date, int]],
    *,
    days: int,
    limit: int | None = None,
    limit_label: str = "Limit",
    in_words: Callable[[int], str] = "{:,}".format,
) -> LineChart:
    """The geometry of `series` (one figure a day) over `days` days ending with its latest day, on a
    value axis that reaches both the highest figure and `limit`. A day without a figure is a gap.
    `in_words` writes a figure for its tooltip ("1 active customer")."""
    figures = daily_window(series, days)
    ticks = nice_ticks(max([*figures.values(), limit or 0]))
    axis_top = ticks[-1]

    def y(value: int) -> float:
        return round(BOTTOM - (BOTTOM - TOP) * value / axis_top, 1)

    limit_y = y(limit) if limit is not None else None
    chart = LineChart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        right=RIGHT,
        top=TOP,
        bottom=BOTTOM,
        y_ticks=[Tick(y(value), tick_label(value, axis_top), "end") for value in ticks],
        x_ticks=[],
        line="",
        points=[],
        hit_width=0,
        limit_y=limit_y,
        limit_label=Label(LEFT + 4, limit_y, f"{limit_label} {limit:,}") if limit_y is not None else None,
        last_label=None,
    )
    if not figures:
        return chart

    end = max(figures)
    step = (RIGHT - LEFT) / (days - 1) if days > 1 else 0

    def x(day: date) -> float:
        return round(RIGHT - (end - day).days * step, 1)

    hit_width = round(step or RIGHT - LEFT, 1)
    path, points = [], []
    for day, value in figures.items():
        joined = day - timedelta(days=1) in figures
        isolated = not joined and day + timedelta(days=1) not in figures
        path.append(f"{'L' if joined else 'M'}{x(day)},{y(value)}")
        if day == end:
            r = 3.5
        elif step < DENSE_STEP and not isolated:
            r = 1.25  # the line shows these days: a dot would only thicken it
        else:
            r = 2.5
        tooltip = f"{long_date(day)}: {in_words(value)}"
        points.append(Point(day, value, x(day), y(value), r, tooltip, round(x(day) - hit_width / 2, 1)))

    return replace(
        chart,
        x_ticks=_date_ticks(end, days, x),
        line=" ".join(path),
        points=points,
        hit_width=hit_width,
        last_label=_last_label(points, limit_y),
    )


def _last_label(points: list[Point], limit_y: float | None) -> Label:
    """The latest value, written over its point or under it, whichever covers less: the line matters more
    than the limit line (the reader follows it), and leaving the plot is worst. Across the limit line from
    its point, a label would seem to be on the wrong side of the limit: that counts as covering it."""
    last = points[-1]
    text = f"{last.value:,}"
    start = last.x - LABEL_CHAR * len(text)
    segments = [(a, b) for a, b in pairwise(points) if b.x > start and (b.day - a.day).days == 1]

    def cost(top: float, bottom: float, limit_between: bool) -> int:
        if top < 0 or bottom > BOTTOM:
            return 4
        covers_line = any(min(a.y, b.y) < bottom and max(a.y, b.y) > top for a, b in segments)
        return 2 * covers_line + limit_between

    y, line = last.y, limit_y
    above = cost(y - LABEL_FAR, y - LABEL_NEAR, line is not None and y - LABEL_FAR <= line < y)
    below = cost(y + LABEL_NEAR, y + LABEL_FAR, line is not None and y < line <= y + LABEL_FAR)
    return Label(last.x, y, text, below=below < above)


def _date_ticks(end: date, days: int, x: Callable[[date], float]) -> list[Tick]:
    """Evenly spaced days from the first of the window to the last; the outer two align with the
    plot's edges so that their labels stay inside the chart."""
    if days <= DATE_TICKS:
        back = list(range(days - 1, -1, -1))
    else:
        back = [round((days - 1) * (DATE_TICKS - 1 - n) / (DATE_TICKS - 1)) for n in range(DATE_TICKS)]
    ticks = []
    for n, days_back in enumerate(back):
        day = end - timedelta(days=days_back)
        anchor = "start" if n == 0 and len(back) > 1 else "end" if n == len(back) - 1 else "middle"
        ticks.append(Tick(x(day), short_date(day), anchor))
    return ticks


def chart_context(
    series: Sequence[tuple[date, int]],
    *,
    days: int,
    title: str,
    series_label: str,
    in_words: Callable[[int], str] = "{:,}".format,
    limit: int | None = None,
    limit_label: str = "Plan limit",
    daily_limits: Mapping[date, int] | None = None,
    chart_id: str = "chart",
    empty_text: str = "No daily figures yet.",
) -> dict:
    """What templates/app/_line_chart.html needs: the chart, its summary and description, and the rows
    of its table, newest first. `series_label` names the figures in lower case ("active customers"),
    `in_words` writes one of them, in the singular or the plural ("1 active customer", via ngettext);
    `daily_limits` adds a column with the limit of each day (a plan can change within the window).
    `chart_id` must be unique on the page: the SVG's <title> and <desc> are found by it; `empty_text`
    stands in for the table when there are no figures."""
    figures = daily_window(series, days)
    chart = line_chart(
        list(figures.items()), days=days, limit=limit, limit_label=limit_label, in_words=in_words
    )
    against = f", against a limit of {limit:,}" if limit is not None else ""
    if figures:
        shown = list(figures.items())
        (first_day, first), (last_day, last) = shown[0], shown[-1]
        summary = f"{title}: {first:,} on {short_date(first_day)}, {last:,} on {long_date(last_day)}{against}"
        low_day = min(figures, key=lambda day: (figures[day], day))
        high_day = max(figures, key=lambda day: (figures[day], day))
        window = ngettext("%(days)s day", "%(days)s days", days) % {"days": days}
        description = (
            ngettext(
                "A figure for %(count)s of the %(window)s.",
                "Figures for %(count)s of the %(window)s.",
                len(figures),
            )
            % {"count": len(figures), "window": window}
            + f" Lowest {figures[low_day]:,} on "
            f"{long_date(low_day)}, highest {figures[high_day]:,} on {long_date(high_day)}, latest "
            f"{last:,} on {long_date(last_day)}."
            + (f" {limit_label} {limit:,}." if limit is not None else "")
            + " The table below the chart lists every figure."
        )
    else:
        summary = f"{title}: no daily figures yet"
        description = "No daily figures yet." + (f" {limit_label} {limit:,}." if limit is not None else "")
    rows = [
        {
            "day": day,
            "value": f"{value:,}",
            "limit": f"{daily_limits[day]:,}" if daily_limits and day in daily_limits else "",
        }
        for day, value in reversed(figures.items())
    ]
    return {
        "chart": chart,
        # The per-day markup is written here rather than by the template's loops: drawn by the template
        # language it was most of the Overview's time (contacts benchmark, "Overview page").
        "chart_days_svg": _days_svg(chart),
        "chart_rows_html": _rows_html(rows, series_label, with_limits=bool(daily_limits)),
        "chart_id": chart_id,
        "chart_title": title,
        "chart_summary": summary,
        "chart_description": description,
        "chart_series_label": series_label,
        "chart_limit": f"{limit:,}" if limit is not None else "",
        "chart_limit_label": limit_label,
        "chart_rows": rows,
        "chart_daily_limits": bool(daily_limits),
        "chart_empty_text": empty_text,
    }


def _days_svg(chart: LineChart) -> SafeString:
    """Each day's dot, its hover area and its tooltip (its <title>)."""
    hit = f'y="{chart.top}" width="{chart.hit_width}" height="{chart.plot_height}"'
    return mark_safe(  # noqa: S308 - numbers, and text escaped here
        "".join(
            f'<g class="day{" last" if p is chart.points[-1] else ""}"><title>{escape(p.tooltip)}</title>'
            f'<circle cx="{p.x}" cy="{p.y}" r="{p.r}"></circle>'
            f'<rect class="hit" x="{p.hit_x}" {hit}></rect></g>'
            for p in chart.points
        )
    )


def _rows_html(rows: list[dict], series_label: str, *, with_limits: bool) -> SafeString:
    """The rows of the table of figures."""
    label = escape(series_label.capitalize())
    return mark_safe(  # noqa: S308 - numbers and dates, and text escaped here
        "".join(
            f'<tr><td>{long_date(row["day"])}</td><td data-label="{label}">{escape(row["value"])}</td>'
            + (f'<td data-label="Limit">{escape(row["limit"])}</td>' if with_limits else "")
            + "</tr>"
            for row in rows
        )
    )

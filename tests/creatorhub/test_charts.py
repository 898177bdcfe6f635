"""Line charts drawn on the server (creatorhub.charts): round value ticks that reach the highest figure
and the limit, dates within the window, a gap for a missing day, the latest value and the limit
labelled, a tooltip for each day, and a text alternative."""

import re
from datetime import date, timedelta
from itertools import pairwise

import pytest
from django.template.loader import render_to_string
from django.utils.translation import ngettext

from creatorhub import charts

END = date(2026, 10, 3)


def daily(values, end=END):
    """One figure a day, the last one on `end`."""
    return [(end - timedelta(days=len(values) - 1 - n), value) for n, value in enumerate(values)]


def labels(ticks):
    return [tick.label for tick in ticks]


@pytest.mark.parametrize(
    ("top", "expected"),
    [
        (0, [0, 1, 2]),
        (1, [0, 1, 2]),
        (3, [0, 1, 2, 3]),
        (9, [0, 5, 10]),
        (78, [0, 20, 40, 60, 80]),
        (100, [0, 50, 100]),
        (1_250, [0, 500, 1_000, 1_500]),
        (10_000, [0, 5_000, 10_000]),
        (12_345, [0, 5_000, 10_000, 15_000]),
        (1_400_000, [0, 500_000, 1_000_000, 1_500_000]),
    ],
)
def test_value_ticks_are_round_start_at_zero_and_reach_the_top(top, expected):
    assert charts.nice_ticks(top) == expected


def test_value_ticks_cover_the_highest_figure_and_the_limit():
    chart = charts.line_chart(daily([700, 1_320, 900]), days=30, limit=1_000)
    assert labels(chart.y_ticks) == ["0", "500", "1,000", "1,500"]
    chart = charts.line_chart(daily([80, 84]), days=30, limit=10_000)
    assert labels(chart.y_ticks) == ["0", "5k", "10k"]
    # each tick is a gridline from the bottom (zero) to the top of the plot
    assert [tick.at for tick in chart.y_ticks] == [chart.bottom, (chart.bottom + chart.top) / 2, chart.top]


def test_large_axes_read_in_thousands_and_millions():
    assert labels(charts.line_chart(daily([1_400_000]), days=7).y_ticks) == ["0", "500k", "1M", "1.5M"]
    assert labels(charts.line_chart(daily([4_200]), days=7).y_ticks) == ["0", "2,000", "4,000", "6,000"]


def test_date_ticks_are_evenly_spaced_within_the_window():
    chart = charts.line_chart(daily([5] * 90), days=90)
    first = END - timedelta(days=89)
    assert len(chart.x_ticks) == 5
    assert chart.x_ticks[0].label == f"{first:%b} {first.day}" == "Jul 6"
    assert chart.x_ticks[-1].label == "Oct 3"
    assert [tick.anchor for tick in chart.x_ticks] == ["start", "middle", "middle", "middle", "end"]
    positions = [tick.at for tick in chart.x_ticks]
    assert positions == sorted(positions)
    assert (positions[0], positions[-1]) == (chart.left, chart.right)
    gaps = [b - a for a, b in pairwise(positions)]
    assert max(gaps) - min(gaps) < 4  # a day's width at most


def test_the_window_ends_with_the_latest_figure_and_drops_older_ones():
    chart = charts.line_chart(daily(list(range(1, 101))), days=90)
    assert len(chart.points) == 90
    assert chart.points[0].value == 11
    assert chart.points[-1].day == END
    assert chart.points[-1].x == chart.right
    assert chart.points[0].x == chart.left


def test_a_missing_day_leaves_a_gap_in_the_line():
    series = [(END - timedelta(days=3), 4), (END - timedelta(days=2), 6), (END, 9)]  # none on Oct 2
    chart = charts.line_chart(series, days=10)
    assert chart.line.count("M") == 2
    assert chart.line.count("L") == 1
    assert [point.day for point in chart.points] == [day for day, _ in series]
    # the day after the gap starts a new piece of line, alone: its dot shows it
    assert chart.line.split(" ")[-1].startswith("M")


def customers_in_words(n):
    return ngettext("%(n)s customer", "%(n)s customers", n) % {"n": f"{n:,}"}


def test_a_tooltip_for_each_day_names_the_day_and_the_value():
    chart = charts.line_chart(
        daily([980, 1_234]), days=30, limit=2_000, limit_label="Plan limit", in_words=customers_in_words
    )
    assert [point.tooltip for point in chart.points] == [
        "Oct 2, 2026: 980 customers",
        "Oct 3, 2026: 1,234 customers",
    ]
    assert [point.tooltip for point in charts.line_chart(daily([5]), days=30).points] == ["Oct 3, 2026: 5"]


def test_a_tooltip_says_one_customer_in_the_singular():
    chart = charts.line_chart(daily([0, 1, 2]), days=30, in_words=customers_in_words)
    assert [point.tooltip.split(": ")[1] for point in chart.points] == [
        "0 customers",
        "1 customer",
        "2 customers",
    ]


def test_the_description_counts_one_figure_and_one_day_in_the_singular():
    one = charts.chart_context(daily([3]), days=1, title="Customers", series_label="customers")
    assert one["chart_description"].startswith("A figure for 1 of the 1 day. Lowest 3")
    some = charts.chart_context(daily([3]), days=90, title="Customers", series_label="customers")
    assert some["chart_description"].startswith("A figure for 1 of the 90 days. Lowest 3")


def test_a_flat_line_at_the_bottom_still_reads_its_value_and_the_limit():
    chart = charts.line_chart(daily([5] * 30), days=90, limit=10_000, limit_label="Plan limit")
    assert chart.last_label.text == "5"
    assert (chart.last_label.x, chart.last_label.y) == (chart.points[-1].x, chart.points[-1].y)
    assert chart.limit_label.text == "Plan limit 10,000"
    assert chart.limit_y == chart.top
    assert chart.points[-1].y > chart.bottom - 1  # the line lies on the axis, yet is labelled


def test_the_latest_value_stays_on_its_side_of_the_limit_and_off_the_line():
    close = charts.line_chart(daily([9_800, 9_900]), days=30, limit=10_000)
    assert close.last_label.below  # over its point, it would seem above the limit
    over = charts.line_chart(daily([9_800, 10_400]), days=30, limit=10_000)
    assert not over.last_label.below
    steep = charts.line_chart(daily([100, 400, 700, 870]), days=90, limit=1_000)
    assert not steep.last_label.below  # under its point, it would cover the rising line
    at_the_top = charts.line_chart(daily([4, 7, 10]), days=30)
    assert at_the_top.last_label.y == at_the_top.top
    assert not at_the_top.last_label.below


def test_an_empty_series_draws_the_axes_and_the_limit_only():
    chart = charts.line_chart([], days=90, limit=100, limit_label="Plan limit")
    assert labels(chart.y_ticks) == ["0", "50", "100"]
    assert chart.limit_label.text == "Plan limit 100"
    assert (chart.line, chart.points, chart.x_ticks, chart.last_label) == ("", [], [], None)
    assert charts.line_chart([], days=90).limit_label is None


def test_the_context_gives_a_summary_a_description_and_the_rows_newest_first():
    context = charts.chart_context(
        daily([2, 4, 9, 6]),
        days=90,
        title="Active customers over the last 90 days",
        series_label="active customers",
        limit=10,
        daily_limits={END: 10},
        chart_id="usage",
    )
    assert context["chart_summary"] == (
        "Active customers over the last 90 days: 2 on Sep 30, 6 on Oct 3, 2026, against a limit of 10"
    )
    assert context["chart_description"] == (
        "Figures for 4 of the 90 days. Lowest 2 on Sep 30, 2026, highest 9 on Oct 2, 2026, latest 6 on "
        "Oct 3, 2026. Plan limit 10. The table below the chart lists every figure."
    )
    assert [row["value"] for row in context["chart_rows"]] == ["6", "9", "4", "2"]
    assert [row["limit"] for row in context["chart_rows"]] == ["10", "", "", ""]
    empty = charts.chart_context([], days=90, title="Active customers", series_label="active customers")
    assert empty["chart_summary"] == "Active customers: no daily figures yet"
    assert empty["chart_rows"] == []


def test_the_template_draws_labelled_axes_the_limit_and_a_tooltip_per_day():
    context = charts.chart_context(
        daily([5] * 30),
        days=90,
        title="Customers",
        series_label="customers",
        in_words=customers_in_words,
        limit=10_000,
        chart_id="demo",
    )
    html = render_to_string("app/_line_chart.html", context)
    assert 'preserveAspectRatio="none"' not in html
    assert 'role="img" aria-labelledby="demo-title" aria-describedby="demo-desc"' in html
    assert '<svg viewBox="0 0 360 200"' in html
    assert "<title>Oct 3, 2026: 5 customers</title>" in html
    assert html.count('<rect class="hit"') == 30
    assert re.findall(r'dy=".35em" text-anchor="end">([^<]*)</text>', html) == ["0", "5k", "10k"]
    dates = re.findall(r'dy="1em" text-anchor="\w+">([^<]*)</text>', html)
    assert dates == ["Jul 6", "Jul 28", "Aug 20", "Sep 11", "Oct 3"]
    assert ">Plan limit 10,000</text>" in html
    assert re.search(r'<text class="last-value"[^>]*>5</text>', html)
    assert '<path class="line" d="M' in html

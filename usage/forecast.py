"""The trend of a site's active customers and when it crosses the plan's limit. Pure functions on
(day, value) series: no database, no clock. (The usage chart is drawn by creatorhub.charts.)

The trend is the least-squares line through the daily figures of the last `days` days (ending with the
latest figure). Arithmetic is exact (fractions), so a hand-computed series gives the day to expect.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from math import floor

DEFAULT_DAYS = 30


class Reason:
    """Why the forecast has (or has no) crossing day."""

    RISING = "rising"  # the trend crosses the limit on `crosses_on`
    FLAT = "flat"  # the trend does not move: it never crosses
    FALLING = "falling"  # the trend goes down: it never crosses
    ALREADY_OVER = "already_over"  # the latest figure is over the limit already
    NOT_ENOUGH_DATA = "not_enough_data"  # fewer than two days in the window

    EXPLAINED = {
        RISING: "At this trend, the site goes over its limit on {day}.",
        FLAT: "The trend is flat: at this rate the site stays under its limit.",
        FALLING: "The trend is falling: at this rate the site stays under its limit.",
        ALREADY_OVER: "The site is over its limit already.",
        NOT_ENOUGH_DATA: "Not enough days of usage for a trend yet.",
    }


@dataclass(frozen=True)
class Trend:
    """value(day) = level + slope * (day - last_day), fitted on `points` days ending with `last_day`."""

    slope: Fraction  # active customers per day
    level: Fraction  # the fitted value on last_day
    last_day: date
    points: int

    def value_on(self, day: date) -> Fraction:
        return self.level + self.slope * (day - self.last_day).days


@dataclass(frozen=True)
class Forecast:
    trend: Trend | None
    limit: int
    latest: int | None
    crosses_on: date | None
    reason: str

    @property
    def message(self) -> str:
        day = f"{self.crosses_on:%b %-d, %Y}" if self.crosses_on else ""
        return Reason.EXPLAINED[self.reason].format(day=day)

    def as_dict(self) -> dict:
        trend = self.trend
        return {
            "crosses_on": self.crosses_on,
            "reason": self.reason,
            "message": self.message,
            "slope_per_day": round(float(trend.slope), 2) if trend else None,
            "days_used": trend.points if trend else 0,
            "limit": self.limit,
        }


def window(series: list[tuple[date, int]], *, days: int = DEFAULT_DAYS) -> list[tuple[date, int]]:
    """The figures of the `days` days ending with the latest one, oldest first."""
    if not series:
        return []
    ordered = sorted(series)
    first = ordered[-1][0] - timedelta(days=days - 1)
    return [(day, value) for day, value in ordered if day >= first]


def linear_trend(series: list[tuple[date, int]], *, days: int = DEFAULT_DAYS) -> Trend | None:
    """The least-squares line through the last `days` days of `series`; None with fewer than 2 days."""
    points = window(series, days=days)
    if len(points) < 2:
        return None
    last_day = points[-1][0]
    xs = [Fraction((day - last_day).days) for day, _ in points]
    ys = [Fraction(value) for _, value in points]
    n = len(points)
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    spread = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
    return Trend(slope=slope, level=mean_y - slope * mean_x, last_day=last_day, points=n)


def forecast(series: list[tuple[date, int]], limit: int, *, days: int = DEFAULT_DAYS) -> Forecast:
    """When the trend goes over `limit` (a value above it, as the nightly task counts an overage):
    the first day after the latest figure on which the fitted line is above the limit.

    None when the latest figure is over already (ALREADY_OVER), the trend is flat or falling, or there
    are fewer than two days to fit.
    """
    points = window(series, days=days)
    latest = points[-1][1] if points else None
    trend = linear_trend(points, days=days)
    if latest is not None and latest > limit:
        return Forecast(trend, limit, latest, None, Reason.ALREADY_OVER)
    if trend is None:
        return Forecast(None, limit, latest, None, Reason.NOT_ENOUGH_DATA)
    if trend.slope == 0:
        return Forecast(trend, limit, latest, None, Reason.FLAT)
    if trend.slope < 0:
        return Forecast(trend, limit, latest, None, Reason.FALLING)
    # level + slope * x > limit  <=>  x > (limit - level) / slope
    first_over = max(floor((limit - trend.level) / trend.slope) + 1, 1)
    return Forecast(trend, limit, latest, trend.last_day + timedelta(days=first_over), Reason.RISING)

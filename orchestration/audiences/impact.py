"""Campaign impact of an audience export: did the customers sent to buy more than the ones held out?

An export with a holdout recorded who was in which group (audiences.export_assignments). The groups are
compared as assigned (intention to treat): treated = every member of the audience in the export's run who
was not held out, including those then left out for lack of consent or contact; holdout = the members held
out. Over a window after exported_at (default 30 days), per group:
- conversion: the share of customers with at least one counted order (staging.stg_counted_orders) in the window;
- revenue per customer: the amount of those orders over every customer of the group (0 without an order).
Lift is treated minus holdout, absolute and relative, each with a 95% confidence interval: conversion from
statsmodels' confint_proportions_2indep (Newcomb's score interval for the difference, the log-adjusted one
for the ratio), revenue from Welch's t interval (unequal variances) for the difference and the delta method
on the log of the ratio for the relative lift. The same figures per segment: rfm_segment, member_tier and
country as tagged in the export's run, before the campaign could move anyone between segments; a segment
with fewer than SMALL_GROUP customers in either group is flagged small (its interval is wide, its point
estimate unreliable). Orders count up to the end of the published as_of: a window not over by then is
reported as partial, with the days it covers.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep

from orchestration.publishing import publish
from orchestration.relations import relation
from orchestration.warehouse import db

DEFAULT_WINDOW_DAYS = 30
CONFIDENCE = 0.95
SEGMENT_TAGS = ("rfm_segment", "member_tier", "country")
SMALL_GROUP = 30  # customers per group below which a segment's figures are flagged
NO_SEGMENT = "(none)"  # a customer without the tag in the export's run (or whose run's tags are no longer kept)

Interval = tuple[float, float] | None


class ImpactError(ValueError):
    pass


@dataclass(frozen=True)
class Lift:
    """Treated against holdout for one figure: each group's value, the absolute and relative lift with intervals."""
    treated: float
    held_out: float
    absolute: float
    absolute_ci: Interval
    relative: float | None  # treated / holdout - 1; None when the holdout's value is 0
    relative_ci: Interval


@dataclass(frozen=True)
class Comparison:
    """The two groups of one segment (dimension 'all' is the whole export)."""
    dimension: str
    segment: str
    treated: int
    held_out: int
    treated_converted: int
    held_out_converted: int
    conversion: Lift
    revenue_per_customer: Lift
    small: bool  # fewer than SMALL_GROUP customers in either group


@dataclass(frozen=True)
class Impact:
    export_id: str
    audience_key: str
    run_id: str
    as_of: dt.date
    exported_at: str
    window_days: int
    window_end: str
    counted_until: str
    days_covered: float
    partial: bool  # the window is not over by the end of the published as_of
    overall: Comparison
    segments: list[Comparison]


def require_tables(client) -> None:
    db.require_tables(client, relation("export_log"), relation("export_assignments"), relation("stg_counted_orders"))


def exports_with_holdout(client, audience_key: str) -> list[tuple[str, str, int, int]]:
    """(export_id, exported_at, held out, exported) of the audience's exports that held customers out, newest first."""
    require_tables(client)
    return [tuple(row) for row in client.query(
        f"SELECT export_id, toString(exported_at), held_out, exported FROM {relation('export_log')} "
        "WHERE audience_key = {key:String} AND held_out > 0 ORDER BY exported_at DESC",
        parameters={"key": audience_key}).result_rows]


def measure(client, audience_key: str, export_id: str | None = None,
            window_days: int = DEFAULT_WINDOW_DAYS) -> Impact:
    """The impact of one export of the audience (default its latest with a holdout); see the module doc."""
    if window_days < 1:
        raise ImpactError(f"--window-days must be at least 1, got {window_days}")
    current = publish.current_run(client)
    if current is None:
        raise ImpactError("nothing is published yet: run `tags refresh` first")
    exports = exports_with_holdout(client, audience_key)
    if not exports:
        raise ImpactError(f"audience {audience_key!r} has no export with a holdout in {relation('export_log')}: "
                          f"export it with one first (tags audience export {audience_key} --holdout 10% ...)")
    if export_id is None:
        export_id = exports[0][0]
    elif export_id not in {e[0] for e in exports}:
        raise ImpactError(f"export {export_id!r} is not an export of {audience_key!r} with a holdout; "
                          f"its exports with one: {', '.join(e[0] for e in exports)}")
    params = {"export": export_id, "days": window_days, "through": current[1]}
    window = f"""SELECT exported_at AS started, exported_at + toIntervalDay({{days:UInt32}}) AS window_end,
                        least(window_end, toDateTime64({{through:Date}} + 1, 3)) AS until
                 FROM {relation('export_log')} WHERE export_id = {{export:String}}"""
    run_id, as_of, exported_at, window_end, until, hours = client.query(
        f"SELECT e.run_id, e.as_of, toString(w.started), toString(w.window_end), toString(w.until), "
        f"greatest(0, dateDiff('second', w.started, w.until)) / 3600 "
        f"FROM {relation('export_log')} AS e, ({window}) AS w WHERE e.export_id = {{export:String}}",
        parameters=params).result_rows[0]
    groups = _group_figures(client, window, {**params, "run": run_id})
    if ("all", "all") not in groups:
        raise ImpactError(f"export {export_id} has no groups in {relation('export_assignments')} (it was made "
                          "before exports recorded them): its impact cannot be measured")
    comparisons = {key: _compare(*key, *sides) for key, sides in groups.items()}
    return Impact(export_id, audience_key, run_id, as_of, exported_at, window_days, window_end, until,
                  hours / 24, hours < window_days * 24, comparisons.pop(("all", "all")),
                  sorted(comparisons.values(), key=lambda c: (SEGMENT_TAGS.index(c.dimension), -c.treated - c.held_out)))


def _group_figures(client, window: str, params: dict) -> dict[tuple[str, str], tuple[tuple, tuple]]:
    """(dimension, segment) -> (treated, holdout) figures: (customers, converted, revenue sum, revenue variance)."""
    assigned = f"SELECT customer_id FROM {relation('export_assignments')} WHERE export_id = {{export:String}}"
    segment_columns = ", ".join(f"nullIf(anyIf(tag_value, tag_key = '{key}'), '') AS {key}" for key in SEGMENT_TAGS)
    pairs = ", ".join(["('all', 'all')", *(f"('{key}', ifNull(s.{key}, '{NO_SEGMENT}'))" for key in SEGMENT_TAGS)])
    rows = client.query(f"""
        WITH
            outcomes AS (
                SELECT customer_id, toFloat64(sum(amount)) AS revenue
                FROM {relation('stg_counted_orders')}
                WHERE ordered_at >= (SELECT started FROM ({window})) AND ordered_at < (SELECT until FROM ({window}))
                  AND customer_id IN ({assigned})
                GROUP BY customer_id
            ),
            segments AS (
                SELECT customer_id, {segment_columns}
                FROM {relation('tag_snapshots')}
                WHERE run_id = {{run:String}} AND tag_key IN {SEGMENT_TAGS!r} AND customer_id IN ({assigned})
                GROUP BY customer_id
            )
        SELECT pair.1 AS dimension, pair.2 AS segment, held_out, count(), countIf(converted),
               sum(revenue), ifNotFinite(varSamp(revenue), 0)
        FROM (
            SELECT a.held_out AS held_out, o.customer_id IS NOT NULL AS converted, ifNull(o.revenue, 0) AS revenue,
                   arrayJoin([{pairs}]) AS pair
            FROM {relation('export_assignments')} AS a
            LEFT JOIN outcomes AS o ON o.customer_id = a.customer_id
            LEFT JOIN segments AS s ON s.customer_id = a.customer_id
            WHERE a.export_id = {{export:String}}
        )
        GROUP BY dimension, segment, held_out
        SETTINGS join_use_nulls = 1""", parameters=params).result_rows
    found: dict[tuple[str, str], dict[bool, tuple]] = {}
    for dimension, segment, held_out, *figures in rows:
        found.setdefault((dimension, segment), {})[bool(held_out)] = tuple(figures)
    empty = (0, 0, 0.0, 0.0)
    return {key: (sides.get(False, empty), sides.get(True, empty)) for key, sides in found.items()}


def _compare(dimension: str, segment: str, treated: tuple, held_out: tuple) -> Comparison:
    (n_t, x_t, revenue_t, var_t), (n_h, x_h, revenue_h, var_h) = treated, held_out
    return Comparison(dimension, segment, n_t, n_h, x_t, x_h, conversion_lift(x_t, n_t, x_h, n_h),
                      revenue_lift(n_t, revenue_t / n_t if n_t else 0.0, var_t,
                                   n_h, revenue_h / n_h if n_h else 0.0, var_h),
                      min(n_t, n_h) < SMALL_GROUP)


def conversion_lift(x_t: int, n_t: int, x_h: int, n_h: int) -> Lift:
    """Conversion treated (x_t of n_t) against holdout (x_h of n_h), with statsmodels' intervals."""
    p_t, p_h = (x_t / n_t if n_t else 0.0), (x_h / n_h if n_h else 0.0)
    absolute_ci = relative_ci = None
    if n_t and n_h:
        absolute_ci = _floats(confint_proportions_2indep(x_t, n_t, x_h, n_h, compare="diff", alpha=1 - CONFIDENCE))
        if x_t and x_h:  # a ratio with no converters on either side has no interval worth showing
            low, high = confint_proportions_2indep(x_t, n_t, x_h, n_h, compare="ratio", alpha=1 - CONFIDENCE)
            relative_ci = (float(low) - 1, float(high) - 1)
    return Lift(p_t, p_h, p_t - p_h, absolute_ci, p_t / p_h - 1 if p_h else None, relative_ci)


def revenue_lift(n_t: int, mean_t: float, var_t: float, n_h: int, mean_h: float, var_h: float) -> Lift:
    """Revenue per customer treated against holdout from each group's size, mean and sample variance: Welch's t
    interval for the difference, the delta method on log(mean_t / mean_h) for the relative lift."""
    absolute_ci = relative_ci = None
    if n_t >= 2 and n_h >= 2:
        spread_t, spread_h = var_t / n_t, var_h / n_h
        se = math.sqrt(spread_t + spread_h)
        if se > 0:
            dof = (spread_t + spread_h) ** 2 / (spread_t ** 2 / (n_t - 1) + spread_h ** 2 / (n_h - 1))
            half = stats.t.ppf((1 + CONFIDENCE) / 2, dof) * se
            absolute_ci = (mean_t - mean_h - half, mean_t - mean_h + half)
        if mean_t > 0 and mean_h > 0:
            log_se = math.sqrt(spread_t / mean_t ** 2 + spread_h / mean_h ** 2)
            log_half = stats.norm.ppf((1 + CONFIDENCE) / 2) * log_se
            ratio = math.log(mean_t / mean_h)
            relative_ci = (math.exp(ratio - log_half) - 1, math.exp(ratio + log_half) - 1)
    return Lift(mean_t, mean_h, mean_t - mean_h, absolute_ci, mean_t / mean_h - 1 if mean_h else None, relative_ci)


def describe(lift: Lift, unit: str) -> str:
    """A lift for people: '+15.2 pp [+6.9, +23.4], +68% [+27%, +122%]' (unit 'pp': a share in percentage points;
    otherwise an amount)."""
    def number(value: float) -> str:
        return f"{value * 100:+.1f}" if unit == "pp" else f"{value:+,.2f}"
    text = f"{number(lift.absolute)} {unit}".rstrip()
    if lift.absolute_ci:
        text += f" [{number(lift.absolute_ci[0])}, {number(lift.absolute_ci[1])}]"
    if lift.relative is not None:
        text += f", {lift.relative:+.0%}"
        if lift.relative_ci:
            text += f" [{lift.relative_ci[0]:+.0%}, {lift.relative_ci[1]:+.0%}]"
    return text


def _floats(pair) -> tuple[float, float]:
    return float(pair[0]), float(pair[1])

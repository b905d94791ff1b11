"""Campaign impact's intervals (orchestration/audiences/impact.py) against published and independent figures."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from orchestration.audiences import impact


def test_conversion_lift_is_newcombes_interval_of_his_worked_example():
    # Newcombe (1998), Statistics in Medicine 17: 56/70 against 48/80, method 10: 0.0524 to 0.3339
    lift = impact.conversion_lift(56, 70, 48, 80)
    assert lift.absolute == pytest.approx(0.2)
    assert lift.absolute_ci == pytest.approx((0.0524, 0.3339), abs=5e-5)
    assert lift.relative == pytest.approx(0.8 / 0.6 - 1)
    assert lift.relative_ci[0] < lift.relative < lift.relative_ci[1]


def test_no_converters_in_the_holdout_gives_no_relative_lift():
    lift = impact.conversion_lift(5, 50, 0, 50)
    assert lift.relative is None and lift.relative_ci is None and lift.absolute_ci[0] < 0.1 < lift.absolute_ci[1]


def test_revenue_lift_from_summaries_is_welchs_interval_of_the_customers():
    rng = np.random.default_rng(7)
    treated = np.where(rng.random(400) < 0.3, rng.exponential(80, 400), 0.0)
    held_out = np.where(rng.random(150) < 0.2, rng.exponential(60, 150), 0.0)
    lift = impact.revenue_lift(len(treated), treated.mean(), treated.var(ddof=1),
                               len(held_out), held_out.mean(), held_out.var(ddof=1))
    welch = stats.ttest_ind(treated, held_out, equal_var=False).confidence_interval(0.95)
    assert lift.absolute_ci == pytest.approx((welch.low, welch.high))
    assert lift.relative == pytest.approx(treated.mean() / held_out.mean() - 1)
    assert lift.relative_ci[0] < lift.relative < lift.relative_ci[1]


def test_describe_reads_as_points_and_amounts():
    assert impact.describe(impact.conversion_lift(56, 70, 48, 80), "pp").startswith("+20.0 pp [+5.2, +33.4], +33%")
    assert impact.describe(impact.revenue_lift(1, 5.0, 0.0, 1, 5.0, 0.0), "") == "+0.00, +0%"

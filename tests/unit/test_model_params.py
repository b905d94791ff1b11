"""A model tag's catalog row: its params and checks are refused with the column and the reason, before anything is
built; the model step's SQL counts the same orders as the feature mart."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from orchestration.catalog import catalog, validation
from orchestration.models import model_tags
from orchestration.settings import PROJECT_DIR

MODEL_ROW = next(row for row in catalog.load() if row.method == "model")


def errors_with(**params) -> list[str]:
    row = replace(MODEL_ROW, params={**MODEL_ROW.params, **params})
    return [str(error) for error in validation.validate([row])]


def test_the_shipped_model_row_is_valid_and_blocks_on_its_auc():
    assert validation.validate([MODEL_ROW]) == []
    assert "auc" in MODEL_ROW.blocking_checks and MODEL_ROW.value_type == "label"


@pytest.mark.parametrize(("params", "message"), [
    ({"target": "no_visit"}, "unknown target 'no_visit'; one of no_order, ordered"),
    ({"horizon_days": 0}, "horizon_days must be a whole number of days, 1 to 365, got 0"),
    ({"features": "orders_90d favourite_colour"}, "unknown feature 'favourite_colour'"),
    ({"features": "orders_90d orders_90d"}, "features names a feature twice"),
    ({"min_auc": 1.5}, "min_auc must be a number from 0 to 1, got 1.5"),
    ({"band_medium": 0.9}, "band_medium 0.9 is above band_high 0.7"),
    ({"seed": -1}, "seed must be a whole number, 0 or more, got -1"),
    ({"learning_rate": 0.1}, "param 'learning_rate' is not a model param"),
])
def test_bad_model_params_are_refused_naming_the_param(params, message):
    [error] = errors_with(**params)
    assert f"line {MODEL_ROW.row_number}" in error and "churn_predicted" in error and "params" in error
    assert message in error


def test_a_missing_param_and_a_model_tag_without_the_auc_check_are_refused():
    row = replace(MODEL_ROW, params={k: v for k, v in MODEL_ROW.params.items() if k != "min_auc"},
                  blocking_checks=("coverage",))
    errors = [str(error) for error in validation.validate([row])]
    assert any("a model tag needs the param 'min_auc'" in e for e in errors)
    assert any("blocking_checks" in e and "a model tag blocks on auc" in e for e in errors)


def test_the_model_step_counts_the_orders_the_feature_mart_counts():
    macro = (PROJECT_DIR / "macros" / "features" / "counted_order_statuses.sql").read_text()
    assert tuple(re.findall(r"'(\w+)'", macro.split("macro counted_order_statuses")[1])) == \
        model_tags.COUNTED_ORDER_STATUSES

"""The tag catalog seed and its validation (orchestration/catalog/catalog.py), without a warehouse."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import replace

import pytest

from orchestration.catalog import catalog, validation

ROWS = catalog.load()
BY_KEY = {row.tag_key: row for row in ROWS}


def errors_of(row: catalog.CatalogRow) -> list[str]:
    return [str(error) for error in validation.validate([row])]


def rule_errors(rule: str, value_type: str = "flag", **params) -> list[str]:
    """Errors of the good `regular_customer` row with another rule (and params) put in."""
    return errors_of(replace(BY_KEY["regular_customer"], rule=rule, value_type=value_type, params=params))


def shipped_cells(tag_key: str) -> dict[str, str]:
    with catalog.CATALOG_FILE.open(newline="") as handle:
        return next(row for row in csv.DictReader(handle) if row["tag_key"] == tag_key)


def write_catalog(path, *rows: dict[str, str]):
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=catalog.COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def csv_errors(tmp_path, **changes: str) -> list[str]:
    """Errors of a one-row CSV: the shipped regular_customer row with some cells changed."""
    path = write_catalog(tmp_path / "tag_catalog.csv", shipped_cells("regular_customer") | changes)
    return [str(error) for error in validation.validate(catalog.load(path))]


# -- the shipped catalog ----------------------------------------------------------------------------

def test_shipped_catalog_has_no_errors():
    assert [str(e) for e in validation.validate(ROWS)] == []


def test_shipped_catalog_has_30_to_40_active_tags_with_unique_names():
    active = [row for row in ROWS if row.is_active]
    assert 30 <= len(active) <= 40
    assert len({row.tag_name for row in ROWS}) == len(ROWS)
    assert all(len(row.tag_name) <= 20 for row in ROWS)


# Every rule of the digest (/work/shared/seeds/README.md): tag_key -> (feature it reads, params).
DIGEST_RULES = {
    "new_customer": ("days_since_first_order", {"days": 30}),
    "regular_customer": ("orders_180d", {"min_orders": 3}),
    "loyal_customer": ("orders_90d", {"min_orders": 3}),
    "high_frequency_buyer": ("orders_30d", {"min_orders": 2}),
    "high_frequency_customer": ("orders_30d", {"min_orders": 3}),
    "high_value": ("spend_365d", {"min_orders": 3, "min_spend": 15000}),
    "vip": ("max_order_amount_365d", {"min_spend_365d": 20000, "min_single_order": 5000}),
    "vip_diamond": ("spend_total", {"min_spend_total": 20000}),
    "vip_awaiting_reactivation": ("days_since_last_order", {"min_spend_365d": 20000, "min_single_order": 5000, "days": 180}),
    "awaiting_reactivation": ("days_since_last_order", {"days": 60}),
    "churn_risk": ("days_since_last_order", {"days": 90}),
    "category_focus": ("top_category_share", {"min_share": 0.7}),
    "interest": ("category_enquiries_90d", {"min_signals": 2}),
    "active_customer": ("reply_rate_7d", {"min_reply_rate": 0.8}),
    "high_interaction": ("broadcast_reply_rate_90d", {"min_reply_rate": 0.25}),
    "high_response": ("replied_within_24h_rate", {"min_fast_share": 0.8}),
    "highly_engaged": ("email_open_rate_90d", {"min_open_rate": 1}),
    "price_sensitive": ("pricing_page_views_30d", {"min_views": 3}),
    "campaign_responded": ("last_campaign_responded", {}),
    "awaiting_payment": ("has_order_awaiting_payment", {}),
    "paid_awaiting_shipment": ("has_order_paid_awaiting_shipment", {}),
    "shipped": ("has_order_in_transit", {}),
    "order_completed": ("days_since_last_completed", {"min_days": 7, "max_days": 30}),
    "complaint_open": ("open_complaints", {}),
    "complaint_resolved": ("complaints_resolved_30d", {}),
    "source": ("source_channel", {}),
    "segment": ("segment", {}),
    "member_tier": ("member_tier", {"no_tier": "none"}),
    "age_band": ("age_band", {"unknown_band": "unknown"}),
    "urgent_ticket": ("open_urgent_tickets", {}),
}


@pytest.mark.parametrize("tag_key", DIGEST_RULES)
def test_every_digest_rule_is_an_active_rule_tag_with_its_threshold(tag_key):
    feature, params = DIGEST_RULES[tag_key]
    row = BY_KEY[tag_key]
    assert (row.status, row.method) == ("active", "rule")
    assert feature in row.rule
    assert row.params == params


def test_rendered_rules_read_like_the_digest():
    assert catalog.render_rule(BY_KEY["high_value"]) == "orders_365d > 3 AND spend_365d >= 15000"
    assert catalog.render_rule(BY_KEY["vip"]) == "spend_365d >= 20000 OR max_order_amount_365d > 5000"
    assert catalog.render_rule(BY_KEY["member_tier"]) == "if(member_tier = 'none', '', member_tier)"
    assert catalog.render_rule(BY_KEY["active_customer"]) == "messages_sent_90d > 0 AND reply_rate_7d >= 0.8"


def test_vip_awaiting_reactivation_is_the_vip_rule_with_the_same_thresholds():
    vip, lapsed = BY_KEY["vip"], BY_KEY["vip_awaiting_reactivation"]
    assert f"({vip.rule})" in lapsed.rule
    assert {k: lapsed.params[k] for k in vip.params} == vip.params


def test_computed_and_manual_tags_have_no_rule():
    expected = {"rfm_segment": ("rfm", "label"), "rfm_score": ("rfm", "number"), "value_score": ("score", "number"),
                "influencer": ("manual", "flag"), "big_spender_sql": ("sql", "flag")}
    for tag_key, (method, value_type) in expected.items():
        row = BY_KEY[tag_key]
        assert (row.method, row.value_type, row.rule) == (method, value_type, "")
    assert "models/tags/custom/" in BY_KEY["big_spender_sql"].description


def test_load_types_every_cell_and_numbers_rows_by_file_line():
    vip = BY_KEY["vip"]
    assert vip.row_number == 2  # line 1 is the header
    assert vip.params == {"min_spend_365d": 20000, "min_single_order": 5000}
    assert vip.coverage_min == 0.001 and vip.coverage_max == 0.3
    assert vip.blocking_checks == ("coverage", "accuracy")
    assert vip.updated_at == dt.date(2026, 11, 20)
    assert BY_KEY["member_tier"].params == {"no_tier": "none"}


def test_row_numbers_count_lines_of_multi_line_cells(tmp_path):
    first = shipped_cells("regular_customer") | {"description": "Two\nlines."}
    second = shipped_cells("vip")
    rows = catalog.load(write_catalog(tmp_path / "tag_catalog.csv", first, second))
    assert [row.row_number for row in rows] == [2, 4]


# -- render_rule ------------------------------------------------------------------------------------

def test_render_rule_quotes_strings_for_clickhouse():
    row = replace(BY_KEY["member_tier"], params={"no_tier": "it's \\ odd"})
    assert catalog.render_rule(row) == "if(member_tier = 'it\\'s \\\\ odd', '', member_tier)"


def test_render_rule_refuses_a_missing_param():
    with pytest.raises(ValueError, match=r"\{min_orders\}"):
        catalog.render_rule(replace(BY_KEY["regular_customer"], params={}))


# -- one test per validation error ------------------------------------------------------------------

def test_error_message_names_file_line_tag_and_column():
    vip = BY_KEY["vip"]
    errors = errors_of(replace(vip, rule=vip.rule.replace("spend_365d >=", "spend_356d >=")))
    assert errors == [f"tag_catalog.csv line {vip.row_number} (vip), column rule: unknown feature 'spend_356d'"]


def test_duplicate_tag_key():
    good = BY_KEY["regular_customer"]
    errors = [str(e) for e in validation.validate([good, replace(good, row_number=40, tag_name="lifecycle-regular 2")])]
    assert errors == [f"tag_catalog.csv line 40 (regular_customer), column tag_key: duplicate tag_key, first used on line {good.row_number}"]


def test_duplicate_tag_name():
    good = BY_KEY["regular_customer"]
    errors = [str(e) for e in validation.validate([good, replace(good, row_number=40, tag_key="regular_2")])]
    assert errors == [f"tag_catalog.csv line 40 (regular_2), column tag_name: duplicate tag_name 'lifecycle-regular', "
                      f"first used on line {good.row_number}"]


@pytest.mark.parametrize("tag_key", ["Regular", "regular-customer", "regular__customer", "_regular", "1regular", "regular customer", ""])
def test_tag_key_not_snake_case(tag_key):
    assert any("column tag_key: " in e and "is not snake_case" in e for e in errors_of(replace(BY_KEY["regular_customer"], tag_key=tag_key)))


def test_tag_name_over_20_characters():
    errors = errors_of(replace(BY_KEY["regular_customer"], tag_name="lifecycle-regular buyer"))
    assert errors == [f"tag_catalog.csv line {BY_KEY['regular_customer'].row_number} (regular_customer), column tag_name: "
                      "'lifecycle-regular buyer' is 23 characters; at most 20"]


@pytest.mark.parametrize("tag_name", ["regular", "Lifecycle-regular", "lifecycle regular", "lifecycle-", "lifecycle- regular",
                                      "lifecycle-regular ", "lifecycle-two  spaces", "-regular"])
def test_tag_name_not_category_attribute(tag_name):
    errors = errors_of(replace(BY_KEY["regular_customer"], tag_name=tag_name))
    assert any('is not in "category-attribute" form' in e for e in errors), errors


def test_tag_name_prefix_must_match_the_category():
    errors = errors_of(replace(BY_KEY["regular_customer"], tag_name="value-regular"))
    assert any('names of lifecycle tags start with "lifecycle-"' in e for e in errors), errors


@pytest.mark.parametrize("column, value", [("category", "loyalty"), ("method", "python"), ("value_type", "bool"), ("status", "live")])
def test_unknown_category_method_value_type_status(column, value):
    errors = errors_of(replace(BY_KEY["regular_customer"], **{column: value}))
    assert any(f"column {column}: unknown {column} '{value}'; one of" in e for e in errors), errors


def test_evaluated_at_is_day_end_or_cutoff_and_cutoff_only_for_rules_and_scores():
    assert errors_of(replace(BY_KEY["regular_customer"], evaluated_at="cutoff")) == []
    assert any("column evaluated_at: unknown evaluated_at 'now'; one of day_end, cutoff" in e
               for e in errors_of(replace(BY_KEY["regular_customer"], evaluated_at="now")))
    assert any("column evaluated_at: evaluated_at cutoff applies to rule and score tags, not to manual tags" in e
               for e in errors_of(replace(BY_KEY["influencer"], evaluated_at="cutoff")))


def test_lane_is_nightly_or_intraday_and_intraday_only_for_flag_rules_at_the_cutoff():
    assert errors_of(BY_KEY["awaiting_payment"]) == [] and BY_KEY["awaiting_payment"].lane == "intraday"
    assert any("column lane: unknown lane 'hourly'; one of nightly, intraday" in e
               for e in errors_of(replace(BY_KEY["awaiting_payment"], lane="hourly")))
    # a day-windowed rule would be evaluated over the night's features: refused, naming what it is
    assert any("column lane: lane intraday takes rule tags of value_type flag with evaluated_at cutoff" in e
               and "not a rule flag tag evaluated at day_end" in e
               for e in errors_of(replace(BY_KEY["vip"], lane="intraday")))
    assert any("not a rfm label tag" in e for e in errors_of(replace(BY_KEY["rfm_segment"], lane="intraday")))


def test_an_empty_lane_cell_is_nightly(tmp_path):
    path = write_catalog(tmp_path / "tag_catalog.csv", shipped_cells("regular_customer") | {"lane": ""})
    assert catalog.load(path)[0].lane == "nightly"


def test_an_empty_evaluated_at_cell_is_day_end(tmp_path):
    path = write_catalog(tmp_path / "tag_catalog.csv", shipped_cells("regular_customer") | {"evaluated_at": ""})
    assert catalog.load(path)[0].evaluated_at == "day_end"


@pytest.mark.parametrize("tag_key, value_type, message", [
    ("influencer", "label", "manual tags have value_type flag, not label"),
    ("value_score", "flag", "score tags have value_type number, not flag"),
    ("rfm_segment", "flag", "rfm tags have value_type label or number, not flag"),
])
def test_value_type_the_method_cannot_produce(tag_key, value_type, message):
    assert any(message in e for e in errors_of(replace(BY_KEY[tag_key], value_type=value_type)))


@pytest.mark.parametrize("column", ["owner", "description", "updated_by"])
def test_missing_owner_description_or_author(column):
    errors = errors_of(replace(BY_KEY["regular_customer"], **{column: " "}))
    assert errors == [f"tag_catalog.csv line {BY_KEY['regular_customer'].row_number} (regular_customer), column {column}: {column} is missing"]


def test_rule_missing_for_a_rule_tag():
    errors = errors_of(replace(BY_KEY["regular_customer"], rule="", params={}))
    assert any("column rule: a rule tag needs a rule" in e for e in errors), errors


def test_rule_given_for_a_tag_computed_elsewhere():
    errors = errors_of(replace(BY_KEY["influencer"], rule="orders_30d > 0"))
    assert any("column rule: a manual tag is computed elsewhere; leave rule empty" in e for e in errors), errors


@pytest.mark.parametrize("rule", ["orders_180d >=", "(orders_180d > 3", "orders_180d > 3)", "orders_180d, orders_30d",
                                  "orders_180d orders_30d", "orders_180d > 3 FROM x", "orders_180d > 3 SETTINGS max_threads = 1",
                                  "DROP TABLE x", "SELECT 1", "orders_180d > 3 AS x", "'unterminated"])
def test_rule_that_is_not_one_expression(rule):
    errors = rule_errors(rule)
    assert any("column rule: is not one ClickHouse expression: " in e for e in errors), errors


def test_unknown_features_are_each_named():
    errors = rule_errors("orderz_30d > 1 AND spend_356d > 2 AND orderz_30d < 9")
    assert [e.split("column ")[1] for e in errors] == ["rule: unknown feature 'orderz_30d'", "rule: unknown feature 'spend_356d'"]


def test_lambda_parameters_are_not_features():
    assert rule_errors("arrayExists(x -> x >= 3, mapValues(category_orders))") == []


@pytest.mark.parametrize("rule, message", [
    ("orders_30d > 1; DROP TABLE x", "semicolons are not allowed"),
    ("orders_30d > 1;", "semicolons are not allowed"),
    ("(select 1)", "subqueries, tables and query parameters are not allowed"),
    ("orders_30d IN (SELECT orders_30d FROM raw.orders)", "subqueries, tables and query parameters are not allowed"),
    ("EXISTS (SELECT 1)", "subqueries, tables and query parameters are not allowed"),
    ("orders_30d >= {n:UInt32}", "subqueries, tables and query parameters are not allowed"),
    ("file('/etc/passwd') = ''", "function file() reads outside the feature mart"),
    ("length(file('/etc/passwd')) > 0", "function file() reads outside the feature mart"),
    ("url('http://example.com/x', 'CSV') = ''", "function url() reads outside the feature mart"),
    ("remote('other-host', 'db', 'table') = 1", "function remote() reads outside the feature mart"),
    ("s3('https://bucket/x.csv') = 1", "function s3() reads outside the feature mart"),
    ("numbers(10) = 1", "function numbers() reads outside the feature mart"),
    ("input('x String') = ''", "function input() reads outside the feature mart"),
    ("executable('x.sh', 'TSV', 'y String') = ''", "function executable() reads outside the feature mart"),
    ("dictGetString('customers', 'vip', toUInt64(1)) = '1'", "function dictGetString() reads outside the feature mart"),
    ("joinGet('raw.t', 'v', customer_id) = 1", "function joinGet() reads outside the feature mart"),
    ("sleep(3) = 0", "function sleep() reads outside the feature mart"),
    ("raw.orders.amount > 0", "columns are plain feature names, without table or database"),
    ("customer_features.orders_30d > 0", "columns are plain feature names, without table or database"),
    ("orders_30d > 0 or 1=1 --", "comments are not allowed"),
    ("orders_30d > 0 /* note */", "comments are not allowed"),
    ("orders_30d > 0 # note", "comments are not allowed"),
])
def test_injection_like_rules_are_rejected(rule, message):
    errors = rule_errors(rule)
    assert any(f"column rule: " in e and message in e for e in errors), errors


@pytest.mark.parametrize("rule", ["toDate(last_order_at) < today() - 60", "dateDiff('day', signup_at, now()) < 30",
                                  "rand() % 2 = 0", "randomString(3) = 'abc'", "signup_at > CURRENT_DATE"])
def test_rules_that_read_the_clock_or_chance_are_rejected(rule):
    errors = rule_errors(rule)
    assert any("column rule: " in e and "depends on the clock or on chance" in e for e in errors), errors


def test_parse_errors_say_where_the_parser_stopped():
    errors = rule_errors("orders_30d > 1 FROM x")
    assert errors[0].endswith("column rule: is not one ClickHouse expression: unexpected 'FROM' (character 16)")


def test_a_semicolon_inside_a_string_is_data_not_a_statement_break():
    assert rule_errors("source_channel = 'a;b' OR source_channel = '--x'") == []


def test_placeholder_without_param_and_param_without_placeholder():
    errors = errors_of(replace(BY_KEY["regular_customer"], rule="orders_180d >= {min_order}"))
    line = BY_KEY["regular_customer"].row_number
    assert errors == [
        f"tag_catalog.csv line {line} (regular_customer), column rule: placeholder {{min_order}} has no value in params",
        f"tag_catalog.csv line {line} (regular_customer), column params: param 'min_orders' is not used by the rule (a misspelt placeholder?)",
    ]


@pytest.mark.parametrize("params, message", [
    ("min_orders=three", "param 'min_orders': 'three' is neither a number nor a single-quoted string"),
    ("min_orders='it''s'", "is neither a number nor a single-quoted string"),
    ("min_orders", "'min_orders' is not name=value"),
    ("MinOrders=3", "param name 'MinOrders' is not snake_case"),
    ("min_orders=3;min_orders=4", "param 'min_orders' is given twice"),
])
def test_params_that_do_not_parse(tmp_path, params, message):
    errors = csv_errors(tmp_path, params=params)
    assert any("column params: " in e and message in e for e in errors), errors


@pytest.mark.parametrize("rule, value_type, returns", [
    ("'yes'", "flag", "a string"),
    ("spend_365d", "flag", "a number"),
    ("orders_30d + 1", "flag", "a number"),
    ("orders_30d > 3", "label", "a condition (0/1)"),
    ("has_order_in_transit", "label", "a condition (0/1)"),
    ("if(orders_30d > 3, 5, 7)", "label", "a number"),
    ("source_channel", "number", "a string"),
    ("multiIf(orders_30d > 3, 'a', orders_30d > 1, 'b', '')", "number", "a string"),
    ("orders_30d > 3", "number", "a condition (0/1)"),
    ("orders_30d > 3", "labels", "a condition (0/1)"),
    ("source_channel", "labels", "a string"),
    ("mapKeys(category_orders)", "label", "an array of strings"),
    ("['a', 'b']", "flag", "an array of strings"),
])
def test_rule_that_clearly_returns_another_value_type(rule, value_type, returns):
    errors = rule_errors(rule, value_type=value_type)
    assert any(f"column value_type: value_type is {value_type} but the rule returns {returns}" in e for e in errors), errors


@pytest.mark.parametrize("rule, value_type", [
    ("ifNull(days_since_last_order > 60, 0)", "flag"),
    ("has_order_in_transit", "flag"),
    ("if(top_category_share >= 0.7, top_category, '')", "label"),
    ("toUInt8(orders_30d > 1)", "flag"),  # unknown to the parser: left to the warehouse's type check
    ("spend_365d / 100", "number"),
])
def test_rule_whose_value_type_fits_or_cannot_be_told(rule, value_type):
    assert rule_errors(rule, value_type=value_type) == []


@pytest.mark.parametrize("coverage_min, coverage_max, message", [
    (0.5, 0.1, "column coverage_max: coverage_min 0.5 is above coverage_max 0.1"),
    (-0.1, 0.5, "column coverage_min: -0.1 is outside 0..1"),
    (0.1, 1.5, "column coverage_max: 1.5 is outside 0..1"),
    (None, 0.5, "column coverage_min: coverage_min is missing"),
])
def test_coverage_range(coverage_min, coverage_max, message):
    errors = errors_of(replace(BY_KEY["regular_customer"], coverage_min=coverage_min, coverage_max=coverage_max))
    assert any(message in e for e in errors), errors


def test_coverage_that_is_not_a_number(tmp_path):
    errors = csv_errors(tmp_path, coverage_max="lots")
    assert errors == ["tag_catalog.csv line 2 (regular_customer), column coverage_max: 'lots' is not a number"]


@pytest.mark.parametrize("checks, message", [
    (("coverage", "speed"), "column blocking_checks: unknown check 'speed'; one of coverage, distribution, stability, accuracy"),
    ((), "column blocking_checks: blocking_checks is missing (the default is coverage;accuracy)"),
])
def test_blocking_checks(checks, message):
    errors = errors_of(replace(BY_KEY["regular_customer"], blocking_checks=checks))
    assert any(message in e for e in errors), errors


@pytest.mark.parametrize("updated_at, message", [
    ("2026-13-01", "column updated_at: '2026-13-01' is not a date written YYYY-MM-DD"),
    ("20.11.2026", "column updated_at: '20.11.2026' is not a date written YYYY-MM-DD"),
    ("", "column updated_at: updated_at is missing"),
])
def test_updated_at_must_be_a_date(tmp_path, updated_at, message):
    errors = csv_errors(tmp_path, updated_at=updated_at)
    assert errors == [f"tag_catalog.csv line 2 (regular_customer), {message}" + ("" if updated_at else " (YYYY-MM-DD of the last change)")]


def test_row_with_too_many_cells(tmp_path):
    path = tmp_path / "tag_catalog.csv"
    header = ",".join(catalog.COLUMNS)
    line = ",".join(shipped_cells("campaign_responded").values())  # its description has no comma
    path.write_text(f"{header}\n{line},extra\n")
    errors = [str(e) for e in validation.validate(catalog.load(path))]
    assert errors == [f"tag_catalog.csv line 2 (campaign_responded), column (row): expected {len(catalog.COLUMNS)} cells, "
                      f"got {len(catalog.COLUMNS) + 1} (a comma in an unquoted cell?)"]


def test_wrong_header_is_a_file_error(tmp_path):
    path = tmp_path / "tag_catalog.csv"
    path.write_text("tag_key,tag_name\nvip,value-VIP\n")
    with pytest.raises(catalog.CatalogFileError, match="line 1: the header must be exactly tag_key,tag_name,category"):
        catalog.load(path)


def test_missing_file_is_a_file_error(tmp_path):
    with pytest.raises(catalog.CatalogFileError, match="no such file"):
        catalog.load(tmp_path / "nothing.csv")


def test_error_without_tag_key_reads_cleanly():
    error = catalog.CatalogError(row=3, tag_key="", column="tag_key", message="'' is not snake_case")
    assert str(error) == "tag_catalog.csv line 3, column tag_key: '' is not snake_case"


@pytest.mark.parametrize("tag_key", ["as_of", "customer_id"])
def test_tag_key_that_is_a_column_of_every_tag_table(tag_key):
    assert any(f"column tag_key: {tag_key!r} is a column of every tag table" in e
               for e in errors_of(replace(BY_KEY["vip"], tag_key=tag_key)))


SCORE = BY_KEY["value_score"]


def test_shipped_score_weights_sum_to_one():
    assert sum(SCORE.params[name] for name in catalog.SCORE_WEIGHTS) == pytest.approx(1)


@pytest.mark.parametrize("change, message", [
    ({"w_tier": 0.2}, "score weights must sum to 1 (so the score runs 0-100), they sum to 1.1"),
    ({"w_tier": -0.1, "w_monetary": 0.55}, "score weights must each be between 0 and 1"),
    ({"monetary_cap": 0}, "monetary_cap must be above 0"),
    ({"w_tier": "'high'"}, "a score tag needs the number param 'w_tier'"),
    ({"bonus": 1}, "param 'bonus' is not a score param"),
])
def test_score_params(change, message):
    errors = errors_of(replace(SCORE, params={**SCORE.params, **change}))
    assert any(f"(value_score), column params: {message}" in e for e in errors), errors


def test_missing_score_param_is_named():
    params = {k: v for k, v in SCORE.params.items() if k != "recency_days"}
    assert any("column params: a score tag needs the number param 'recency_days'" in e
               for e in errors_of(replace(SCORE, params=params)))


def test_sql_tag_needs_its_hand_written_model():
    assert errors_of(BY_KEY["big_spender_sql"]) == []
    errors = errors_of(replace(BY_KEY["big_spender_sql"], tag_key="no_such_model"))
    assert any("(no_such_model), column method: a sql tag is a hand-written model, and "
               "models/tags/custom/tag_no_such_model.sql does not exist" in e for e in errors), errors


def test_the_benchmarks_new_catalog_row_is_a_valid_row(tmp_path):
    # bench.new_tag appends this row to the real catalog; a column added to the catalog must reach it too
    from bench.new_tag import NEW_ROW
    from orchestration.catalog import catalog, validation

    path = tmp_path / "tag_catalog.csv"
    path.write_text(catalog.CATALOG_FILE.read_text() + NEW_ROW)
    rows = catalog.load(path)
    assert rows[-1].tag_key == "bench_big_basket"
    assert validation.validate(rows) == []

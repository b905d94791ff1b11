"""The audience expression language and the audience file: parsed with a grammar, checked against the
catalog, compiled to bitmap SQL with only quoted literals from the user; every error names its position."""

import dataclasses
import datetime as dt

import pytest

from orchestration.audiences import audience_expression as expr, audiences
from orchestration.audiences import exports
from orchestration.catalog import catalog, catalog_sync
from orchestration.warehouse import bi_access

TYPES = {"vip": "flag", "churn_risk": "flag", "complaint_open": "flag", "rfm_segment": "label", "country": "label",
         "value_score": "number", "interest": "labels"}


def error_of(expression: str) -> expr.ExpressionError:
    with pytest.raises(expr.ExpressionError) as caught:
        expr.compile_expression(expression, TYPES)
    return caught.value


def test_precedence_not_binds_tighter_than_and_than_or():
    tree = expr.check("vip or not churn_risk and complaint_open", TYPES)
    assert isinstance(tree, expr.AnyOf)
    left, right = tree.operands
    assert left == expr.Condition("vip", "has", (), 1)
    assert isinstance(right, expr.AllOf) and isinstance(right.operands[0], expr.Not)


def test_keywords_are_case_insensitive_and_tag_keys_may_start_with_a_keyword():
    types = {**TYPES, "order_completed": "flag", "android_user": "flag", "notified": "flag"}
    tree = expr.check("order_completed AND NOT android_user Or notified", types)
    assert [c.tag for c in expr.conditions(tree)] == ["order_completed", "android_user", "notified"]


def test_compiles_to_one_aggregate_per_condition_and_bitmap_operations():
    compiled = expr.compile_expression(
        "(vip or rfm_segment = 'champions') and value_score >= 80 and country in ('DE', 'FR') and not churn_risk", TYPES)
    assert compiled.conditions == (
        "tag_key = 'vip'",
        "tag_key = 'rfm_segment' and tag_value = 'champions'",
        "tag_key = 'value_score' and ifNull(toFloat64OrNull(tag_value) >= 80, 0)",
        "tag_key = 'country' and tag_value in ('DE', 'FR')",
        "tag_key = 'churn_risk'",
    )
    assert compiled.bitmap == "bitmapAndnot(bitmapAnd(bitmapAnd(bitmapOr(t0, t1), t2), t3), t4)"
    assert not compiled.uses_all_customers  # and-not needs no universe
    assert expr.compile_expression("not vip", TYPES).bitmap == "bitmapAndnot(all_customers, t0)"
    assert expr.compile_expression("not vip", TYPES).uses_all_customers


def test_a_labels_tag_is_tested_with_has_any_and_all():
    one = expr.compile_expression("interest has 'beauty'", TYPES)
    assert one.conditions == ("tag_key = 'interest' and tag_value = 'beauty'",) and one.bitmap == "t0"
    assert expr.compile_expression("interest = 'beauty'", TYPES) == one  # = reads as has
    either = expr.compile_expression("interest HAS ANY ('beauty', 'fashion')", TYPES)
    assert either.conditions == ("tag_key = 'interest' and tag_value in ('beauty', 'fashion')",)
    both = expr.compile_expression("interest has all ('beauty', 'fashion') and not vip", TYPES)
    assert both.bitmap == "bitmapAndnot(bitmapAnd(t0, t1), t2)"
    assert both.conditions[:2] == ("tag_key = 'interest' and tag_value = 'beauty'",
                                   "tag_key = 'interest' and tag_value = 'fashion'")
    # has on a one-value label is its =
    assert expr.compile_expression("rfm_segment has 'lost'", TYPES).conditions == (
        "tag_key = 'rfm_segment' and tag_value = 'lost'",)


@pytest.mark.parametrize("expression, column, words", [
    ("interest != 'beauty'", 1, "not interest has 'some value'"),
    ("interest not in ('beauty')", 1, "labels tag (several values per customer)"),
    ("interest", 1, "interest has 'some value'"),
    ("interest has 3", 14, "quoted text"),
    ("vip has 'x'", 1, "flag tag"),
    ("interest has all ()", 19, "unexpected ')'"),
])
def test_a_labels_tag_refuses_what_has_no_clear_meaning(expression, column, words):
    error = error_of(expression)
    assert error.column == column and words in error.message


def test_the_same_condition_twice_is_aggregated_once():
    compiled = expr.compile_expression("(vip and churn_risk) or (vip and complaint_open)", TYPES)
    assert len(compiled.conditions) == 3


def test_text_values_are_escaped_literals():
    compiled = expr.compile_expression(r"country = 'D\'E' or country = 'x\\'", TYPES)
    assert compiled.conditions == (r"tag_key = 'country' and tag_value = 'D\'E'", r"tag_key = 'country' and tag_value = 'x\\'")


@pytest.mark.parametrize(("expression", "column", "words"), [
    ("vip and", 8, "ends too early"),
    ("(vip or churn_risk", 19, "ends too early"),
    ("vip or or churn_risk", 8, "unexpected 'or'"),
    ("vip churn_risk", 5, "unexpected 'churn_risk'"),
    ("vip) or 1=1 --", 4, "unexpected ')'"),
    ("vip; drop table tags.customer_tags", 4, "unexpected character ';'"),
    ("vip or (select 1)", 16, "unexpected"),
    ("file('/etc/passwd')", 5, "unexpected '('"),
    ("vip and Country = 'DE'", 9, "unexpected character 'C'"),
    ("country = \"DE\"", 11, "unexpected character '\"'"),
    ("vip -- comment", 5, "unexpected character '-'"),
    ("", 1, "empty"),
])
def test_syntax_errors_name_the_position(expression, column, words):
    error = error_of(expression)
    assert error.column == column, str(error)
    assert words in error.message
    assert f"column {column}:" in str(error) and "^" in str(error)


@pytest.mark.parametrize(("expression", "column", "words"), [
    ("vipp and churn_risk", 1, "unknown tag 'vipp' (did you mean 'vip'?)"),
    ("vip and url", 9, "unknown tag 'url'"),
    ("vip = 1", 1, "vip is a flag tag"),
    ("rfm_segment", 1, "rfm_segment is a label tag: compare it"),
    ("value_score", 1, "value_score is a number tag: compare it"),
    ("country > 'DE'", 1, "label tag: compare it with =, !=, in or not in"),
    ("country = 5", 11, "compare it with quoted text"),
    ("value_score >= '80'", 16, "compare it with a number"),
    ("country in ('DE', 7)", 19, "compare it with quoted text"),
])
def test_type_errors_and_unknown_tags_name_the_position(expression, column, words):
    error = error_of(expression)
    assert error.column == column, str(error)
    assert words in error.message


def audience(**changes) -> audiences.Audience:
    base = audiences.Audience(2, "vip_de", "VIPs in Germany", "vip and country = 'DE'", "crm", "A test.", "email", 1,
                              dt.date(2027, 1, 1))
    return dataclasses.replace(base, **changes)


def test_the_committed_audiences_are_valid_and_generated():
    rows = catalog.load()
    assert audiences.validate(audiences.load(), rows) == []
    assert catalog_sync.differences(rows) == []
    assert any(a.expires_on < dt.date(2026, 11, 23) for a in audiences.load())  # one expired audience is listed


def test_audience_problems_name_line_audience_and_column():
    rows = catalog.load()
    problems = [str(e) for e in audiences.validate([
        audience(),
        audience(row_number=3, priority=1, expression="vip and"),
        audience(row_number=4, audience_key="Bad-Key", priority=2, channel="fax"),
        audience(row_number=5, audience_key="x_tag", priority=3, expression="country = '{{ var(\"x\") }}'"),
        audience(row_number=6, audience_key="old", priority=4, expression="influencerr"),
    ], rows)]
    assert problems == [
        "audiences.csv line 3 (vip_de), column audience_key: is already used on line 2",
        "audiences.csv line 3 (vip_de), column priority: 1 is already the priority of vip_de",
        "audiences.csv line 3 (vip_de), column expression: column 8: the expression ends too early\n  vip and\n         ^",
        "audiences.csv line 4 (Bad-Key), column audience_key: must be snake_case: lower-case letters and digits "
        "separated by single underscores",
        "audiences.csv line 4 (Bad-Key), column channel: 'fax' is not one of email, sms, whatsapp, push",
        "audiences.csv line 5 (x_tag), column expression: may not contain { or } (the expression is written into a "
        "dbt model)",
        "audiences.csv line 6 (old), column expression: column 1: unknown tag 'influencerr' (did you mean "
        "'influencer'?); audiences use the active tags of seeds/tag_catalog.csv\n  influencerr\n  ^^^^^^^^^^^",
    ]


def test_an_audience_over_a_deprecated_tag_is_refused():
    rows = [dataclasses.replace(r, status="deprecated") if r.tag_key == "vip" else r for r in catalog.load()]
    problems = audiences.validate([audience()], rows)
    assert len(problems) == 1 and "unknown tag 'vip'" in problems[0].message


def test_generated_model_holds_every_audience_and_filters_expired_ones_by_as_of():
    rows = catalog.load()
    sql = audiences.expected_files(audiences.load(), rows)[audiences.GENERATED_DIR / "audience_bitmap_snapshots.sql"]
    for a in audiences.load():
        assert f"select '{a.audience_key}' as audience_key" in sql
    assert "where expires_on >= {{ as_of() }}" in sql
    assert "{{ ref('tag_bitmap_snapshots') }} where run_id = {{ run_id() }}" in sql


def test_holdout_share_parsing():
    assert exports.parse_share("10%") == pytest.approx(0.1)
    assert exports.parse_share("0.25") == pytest.approx(0.25)
    for bad in ("ten", "100%", "-1%", "1.5"):
        with pytest.raises(exports.ExportError):
            exports.parse_share(bad)


def test_the_bi_user_has_the_same_grants_on_both_targets_and_no_password_in_clear():
    xml = bi_access.users_xml("pa55-word")
    prod = bi_access.prod_statements("pa55-word")
    assert "pa55-word" not in xml and not any("pa55-word" in s for s in prod)
    xml_grants = {g for g in bi_access.GRANTS if f"<query>{g}</query>" in xml}
    prod_grants = {s.removesuffix(f" TO {bi_access.BI_USER}") for s in prod if s.startswith("GRANT ")}
    assert xml_grants == prod_grants == {"GRANT SELECT ON tags.*", "GRANT SELECT ON audiences.*",
                                         "GRANT SELECT ON quality.*"}
    assert "<readonly>2</readonly>" in xml and "readonly = 2" in prod[0]
    assert bi_access.BI_USER not in bi_access.users_xml(None)  # no password, no BI user

"""The tag macros, compiled by dbt (`dbt compile --inline`) and the SQL run on the real engine."""

from __future__ import annotations

import json

import pytest
from dbt.cli.main import dbtRunner

from orchestration.dagster import dbt_runner
from tests.integration.known import AS_OF


def compile_inline(sql: str) -> str:
    """The SQL dbt compiles `sql` to on this project, or AssertionError with dbt's message."""
    # dbt run by hand: the run's values as --vars (macros/utils/run_var.sql falls back to them)
    args = dbt_runner.dbt_args("compile") + ["--vars", json.dumps({"as_of": AS_OF.isoformat()}), "--inline", sql, "--quiet"]
    result = dbtRunner().invoke(args)
    if not result.success:
        messages, error = [], result.exception
        while error is not None:  # dbt wraps the macro's own message ("Error parsing inline query")
            messages.append(str(error))
            error = error.__cause__ or error.__context__
        raise AssertionError(" | ".join(messages))
    return result.result.results[0].node.compiled_code


def compile_error(sql: str) -> str:
    with pytest.raises(AssertionError) as error:
        compile_inline(sql)
    return " ".join(str(error.value).split())


def compile_tag(tag_key: str) -> str:
    """As a generated stub compiles: the hint declares the catalog it reads while compiling."""
    return compile_inline(f"-- depends_on: {{{{ ref('tag_catalog') }}}}\n{{{{ catalog_tag('{tag_key}') }}}}")


@pytest.fixture(scope="module")
def seeded(client):
    dbt_runner.run("seed", AS_OF)  # the catalog_tag macro reads the catalog seed while compiling


def test_tag_value_dispatches_to_the_clickhouse_macro_and_renders_every_value_type(client):
    sql = compile_inline(
        "select {{ tag_value('1 > 0', 'flag') }} as flag_true, {{ tag_value('1 > 2', 'flag') }} as flag_false, "
        "{{ tag_value(\"'shoes'\", 'label') }} as label, {{ tag_value(\"''\", 'label') }} as no_label, "
        "{{ tag_value('2 / 3', 'number') }} as number, {{ tag_value('CAST(NULL AS Nullable(Float64))', 'number') }} as no_number")
    assert "toBool(" in sql  # clickhouse__tag_value, not default__tag_value
    row = client.query(sql).named_results().__next__()
    assert row == {"flag_true": "1", "flag_false": "", "label": "shoes", "no_label": "", "number": "0.6667", "no_number": ""}


def test_default_tag_value_is_portable_sql_with_the_same_answers(client):
    sql = compile_inline("select {{ default__tag_value('1 > 0', 'flag') }} as yes, {{ default__tag_value('1 > 2', 'flag') }} as no, "
                         "{{ default__tag_value(\"'x'\", 'label') }} as label")
    assert "case when" in sql and "toBool" not in sql
    assert client.query(sql).result_rows == [("1", "", "x")]


def test_catalog_tag_of_a_rule_tag_selects_tagged_customers_from_the_features(seeded):
    sql = compile_tag("regular_customer")
    assert "orders_180d >= 3" in sql and "features`.`customer_features`" in sql and "where tag_value != ''" in sql


def test_catalog_tag_of_each_computed_method(seeded):
    assert "segment as tag_value" in compile_tag("rfm_segment")
    assert "toString(rfm_score) as tag_value" in compile_tag("rfm_score")
    assert "0.35 * monetary" in compile_tag("value_score")
    assert "argMax(action, (assigned_at, _loaded_at, action))" in compile_tag("influencer")


def test_manual_tag_lets_the_later_of_two_commands_in_one_second_win(client):
    """`tags tag remove` then `tags tag add` within one second (assigned_at is to the second): the add
    stands, and the other way round the remove; only rows loaded at the very same instant fall to remove."""
    rows = [("A", "remove", ".100"), ("A", "add", ".900"), ("B", "add", ".100"), ("B", "remove", ".900"),
            ("C", "add", ".500"), ("C", "remove", ".500")]
    values = ", ".join(f"('{c}', 'influencer', '{a}', '2026-01-01 10:00:00', '2026-01-01 10:00:00{ms}')" for c, a, ms in rows)
    sql = compile_inline(
        "{% set manual %}(select * from values('customer_id String, tag_key String, action String, assigned_at DateTime, "
        f"_loaded_at DateTime64(3)', {values})){{% endset %}}"
        "{% set features %}(select arrayJoin(['A', 'B', 'C']) as customer_id){% endset %}"
        "{{ manual_tag({'tag_key': 'influencer'}, manual, features) }}")
    assert [r[0] for r in client.query(f"select customer_id from ({sql}) order by customer_id").result_rows] == ["A"]


def test_catalog_tag_refuses_a_key_missing_from_the_catalog_and_a_sql_tag(seeded):
    assert "no tag model has meta tag_key 'no_such_tag': run `tags catalog sync`" in compile_error(
        "{{ catalog_tag('no_such_tag') }}")
    assert "tag_catalog row 'big_spender_sql', column method: 'sql' tags are hand-written models" in compile_error(
        "{{ catalog_tag('big_spender_sql') }}")


def test_score_tag_names_a_missing_weight():
    message = compile_error("{{ score_tag({'tag_key': 'value_score', 'params': {'w_recency': 1}}, 'features') }}")
    assert "tag_catalog row 'value_score', column params: score param w_frequency is missing" in message


def test_profile_pivot_types_each_column_by_its_value_type(seeded):  # dbt compile connects to the warehouse
    sql = " ".join(compile_inline("{{ profile_pivot({'vip': 'flag', 'value_score': 'number', 'country': 'label'}) }}").split())
    # no labels tag: every row goes into the map, grouped by the hashed customer and joined back on it
    assert "mapFromArrays(groupArrayIf(tag_key, true), groupArrayIf(tag_value, true)) as tag_values" in sql
    assert "left join pivot on pivot.customer_key = cityHash64(features.customer_id)" in sql
    assert "toUInt8(mapContains(tag_values, 'vip')) as vip" in sql
    assert "toFloat64OrNull(tag_values['value_score']) as value_score" in sql
    assert "tag_values['country'] as country" in sql
    assert "toNullable(pivot.country) as country" in sql

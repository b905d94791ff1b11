{#- The table the on-run-end hook record_quality_checks (macros/quality/quality_checks.sql) writes: one
    row per quality check a dbt invocation ran. Every row comes from the hook (a retry of a run adds rows
    and check_results shows the latest), but for its first build on a warehouse whose
    quality.check_results is still the table the checks wrote before they were dbt tests: its rows are
    kept here, so the history BI reads survives the table becoming a view. -#}
{{ config(materialized='incremental', incremental_strategy='append', order_by='(as_of, run_id, tag_key, check)') }}
{%- set earlier = adapter.get_relation(database=this.database, schema=this.schema, identifier='check_results') %}

select
    run_id,
    as_of,
    checked_at,
    test_name,
    tag_key,
    cast(check as LowCardinality(String)) as check,
    cast(status as LowCardinality(String)) as status,
    toUInt64(failures) as failures,
    toUInt8(blocking) as blocking,
    cast(when_blocked as LowCardinality(String)) as when_blocked,
    cast(observed as Nullable(Float64)) as observed,
    expected,
    toUInt8(passed) as passed,
    message
from (
{%- if not is_incremental() and earlier is not none and earlier.type == 'table' %}
    select run_id, as_of, checked_at, concat('quality__', tag_key, '__', check) as test_name, tag_key, check,
           if(passed, 'pass', if(blocking, 'fail', 'warn')) as status, not passed as failures, blocking,
           '' as when_blocked, observed, expected, passed, message
    from {{ earlier }}
{%- else %}
    select '' as run_id, toDate('1970-01-01') as as_of, now64(3) as checked_at, '' as test_name, '' as tag_key,
           '' as check, '' as status, 0 as failures, 0 as blocking, '' as when_blocked,
           cast(null as Nullable(Float64)) as observed, '' as expected, 0 as passed, '' as message
    where 0
{%- endif %}
)

{#- One row per published run, written by the publish step (orchestration/publishing/publish.py) after the
    run's checks passed: the only switch that makes a run visible in `tags`. dbt only creates the
    table (an incremental model selecting nothing), so its rows survive every build.
    A backfill (an as_of earlier than the current one, published without `--publish`) joins the
    history without becoming what BI reads now. A run of the intraday lane (orchestration/dagster/intraday.py) or of
    new catalog rows (orchestration/dagster/new_tags.py) switches only the tags in its tag_keys, over the night it
    refines (refines_run_id; macros/publish/published_runs.sql). -#}
{{ config(order_by='(as_of, published_at)', on_schema_change='append_new_columns', pre_hook="{{ append_new_columns() }}") }}

select
    '' as run_id,
    toDate('1970-01-01') as as_of,
    toDateTime64('1970-01-01 00:00:00', 3, 'UTC') as published_at,
    toUInt8(0) as backfill,
    {#- the instant the run was evaluated at (var cutoff): the end of its as_of day unless the run set another -#}
    toDateTime('1970-01-01 00:00:00') as cutoff,
    {#- nightly; intraday or new_tags: a run that refines the night (refines_run_id), switching only its tag_keys -#}
    'nightly' as lane,
    cast([] as Array(String)) as tag_keys,
    '' as refines_run_id
where 0

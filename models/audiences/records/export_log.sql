{#- One row per audience export, appended by `tags audience export` (orchestration/audiences/exports.py).
    dbt creates, documents and tests the table (an incremental model selecting nothing), so its rows
    survive every build. -#}
{{ config(order_by='(audience_key, exported_at)') }}

select
    '' as export_id,
    toDateTime64('1970-01-01 00:00:00', 3) as exported_at,
    '' as audience_key,
    '' as run_id,
    toDate('1970-01-01') as as_of,
    '' as channel,
    '' as format,
    '' as file,
    toUInt64(0) as members,
    toUInt64(0) as left_out_priority,
    toUInt64(0) as held_out,
    toUInt64(0) as left_out_no_consent,
    toUInt64(0) as left_out_no_contact,
    toUInt64(0) as exported,
    toFloat64(0) as holdout_share,
    '' as holdout_seed,
    false as exclusive
where 0

{#- Holdouts released by `tags audience release-holdout` (orchestration/audiences/exports.py): the rows that
    left audiences.holdouts, with who released them, when and why. dbt creates, documents and tests
    the table; its rows survive every build. -#}
{{ config(engine='ReplacingMergeTree()', order_by='(audience_key, customer_id, recorded_at)') }}

select
    '' as audience_key,
    '' as customer_id,
    '' as export_id,
    '' as holdout_seed,
    toFloat64(0) as holdout_share,
    toDateTime64('1970-01-01 00:00:00', 3) as recorded_at,
    toDateTime64('1970-01-01 00:00:00', 3) as released_at,
    '' as released_by,
    '' as reason
where 0

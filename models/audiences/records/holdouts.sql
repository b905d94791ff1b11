{#- Customers held out of an audience as its control group, appended by `tags audience export
    --holdout` and removed by `tags audience release-holdout` (orchestration/audiences/exports.py). One row
    per audience and customer once merged (ReplacingMergeTree: an export records again the customers
    already held out). dbt creates, documents and tests the table; its rows survive every build. -#}
{{ config(engine='ReplacingMergeTree()', order_by='(audience_key, customer_id)') }}

select
    '' as audience_key,
    '' as customer_id,
    '' as export_id,
    '' as holdout_seed,
    toFloat64(0) as holdout_share,
    toDateTime64('1970-01-01 00:00:00', 3) as recorded_at
where 0

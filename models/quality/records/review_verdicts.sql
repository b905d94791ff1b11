{#- Verdicts of people on sampled tags, appended by `tags quality review-import`
    (orchestration/quality/review.py). dbt creates, documents and tests the table (an incremental model
    selecting nothing), so its rows survive every build. -#}
{{ config(order_by='(reviewed_on, tag_key, customer_id)') }}

select
    toDate('1970-01-01') as reviewed_on,
    '' as sheet,
    '' as customer_id,
    '' as tag_key,
    toLowCardinality('') as verdict
where 0

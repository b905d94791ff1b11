{#- Who was in which group of each audience export with a holdout, appended by `tags audience export`
    (orchestration/audiences/exports.py): every member of the audience in the export's run, held out or
    not (members left to a higher-priority audience by --exclusive are in neither group). Campaign impact
    (orchestration/audiences/impact.py) compares the two groups as assigned, whatever happened to them
    afterwards (intention to treat). dbt creates, documents and tests the table; its rows survive every build. -#}
{{ config(order_by='(export_id, customer_id)') }}

select
    '' as export_id,
    '' as audience_key,
    '' as customer_id,
    false as held_out
where 0

{#- Every run's tag changes against the previous published run (the latest of an earlier as_of):
    added, removed or changed, with the old and the new value. On the first run every tag is added. -#}
{{ config(order_by='(as_of, run_id, tag_key, customer_id)', partition_by='as_of') }}

with both_runs as (
    select customer_id, tag_key, tag_value, run_id = {{ run_id() }} as is_current
    from {{ ref('tag_snapshots') }}
    where run_id = {{ run_id() }} or (as_of, run_id) global in {{ previous_published_run() }}
),

{#- a GROUP BY rather than a full join: one pass, and '' (never a stored value) means absent -#}
paired as (
    select customer_id, tag_key, anyIf(tag_value, is_current) as new_value, anyIf(tag_value, not is_current) as old_value
    from both_runs
    group by customer_id, tag_key
)

select
    {{ run_id() }} as run_id,
    {{ as_of() }} as as_of,
    customer_id,
    tag_key,
    multiIf(old_value = '', 'added', new_value = '', 'removed', 'changed') as change,
    old_value,
    new_value
from paired
where new_value != old_value

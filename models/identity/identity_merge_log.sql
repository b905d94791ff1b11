{#- The history of stitching: a row each time a customer's stitched customer changed, written by the run that saw
    it (merged into another by a new edge, or back on its own when an identifier it was joined through is held
    back), so a tag or an export kept under the old key can be followed to the new one. The first run logs every
    customer stitched to another. Appended, never rebuilt (`--full-refresh` keeps it, as it keeps the tag store). -#}
{{ config(materialized='incremental', incremental_strategy='append', full_refresh=false,
          order_by='(customer_id, logged_at)', settings={}) }}

with current_keys as (
    select customer_id, stitched_customer_id
    from {{ ref('stitched_customers') }}
),

{#- each customer's stitched customer as last logged; own id when never logged -#}
logged as (
    {%- if is_incremental() %}
    select customer_id, argMax(stitched_customer_id, logged_at) as stitched_customer_id
    from {{ this }}
    group by customer_id
    {%- else %}
    select '' as customer_id, '' as stitched_customer_id
    where 0
    {%- endif %}
)

select
    {{ as_of() }} as as_of,
    {{ run_id() }} as run_id,
    now64(3) as logged_at,
    current_keys.customer_id as customer_id,
    if(logged.customer_id = current_keys.customer_id, logged.stitched_customer_id, current_keys.customer_id)
        as previous_stitched_customer_id,
    current_keys.stitched_customer_id as stitched_customer_id
from current_keys
left join logged on logged.customer_id = current_keys.customer_id
where current_keys.stitched_customer_id != previous_stitched_customer_id

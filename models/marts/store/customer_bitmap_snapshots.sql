{#- Every run's customers (the whole feature mart) as one bitmap of customer_index numbers: what
    `not` subtracts from in an audience expression. -#}
{{ config(order_by='(as_of, run_id)', partition_by='as_of') }}

select
    {{ run_id() }} as run_id,
    {{ as_of() }} as as_of,
    groupBitmapState(customer_index.customer_index) as members,
    count() as member_count
from {{ ref('customer_features') }} as features
inner join {{ ref('customer_index') }} as customer_index on customer_index.customer_id = features.customer_id

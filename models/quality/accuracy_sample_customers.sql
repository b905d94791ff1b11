{#- The accuracy sample: accuracy_sample_rate of the customers (default 5%), at most accuracy_sample_max,
    drawn by a hash of customer_id seeded with the run id, so each run draws another sample and the same
    run always draws the same one. A table of its own: the sample's staging rows below are read through it. -#}
{{ config(order_by='customer_id') }}

select customer_id
from {{ ref('stg_customers') }}
where cityHash64(customer_id, {{ run_id() }}) % 1000000 < {{ var('accuracy_sample_rate') }} * 1000000
order by cityHash64(customer_id, {{ run_id() }})
limit {{ var('accuracy_sample_max') }}

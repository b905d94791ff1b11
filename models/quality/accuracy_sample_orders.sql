{#- The sampled customers' staged orders, copied once: accuracy_sample_features reads them four times, and
    reading stg_orders four times for a few thousand customers cost more than the whole recomputation. -#}
{{ config(order_by='(customer_id, order_id)') }}

select order_id, customer_id, ordered_at, toDate(ordered_at) as ordered_on, status, assumeNotNull(amount) as amount,
       paid_at, shipped_at, delivered_at, completed_at
from {{ ref('stg_orders') }}
where source_customer_id in {{ accounts_of("select customer_id from " ~ ref('accuracy_sample_customers')) }}

{#- One row per customer and order day: the counted orders (paid or later; not cancelled, not
    refunded, not awaiting payment) of that day. Windowed order features are sums over these days. -#}
{{ config(order_by='(customer_id, order_day)') }}

with orders as (
    select customer_id, ordered_at, amount, completed_at
    from {{ ref('stg_orders') }}
    where status in {{ counted_order_statuses() }}
)

select
    customer_id,
    toDate(ordered_at) as order_day,
    toUInt32(count()) as orders,
    toFloat64(sum(assumeNotNull(amount))) as spend,
    toFloat64(max(assumeNotNull(amount))) as max_order_amount,
    min(ordered_at) as first_order_at,
    max(ordered_at) as last_order_at,
    max(completed_at) as last_completed_at
from orders
group by customer_id, order_day

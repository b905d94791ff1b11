{#- One row per customer and order day: the counted orders (paid or later; not cancelled, not
    refunded, not awaiting payment) of that day. Windowed order features are sums over these days. -#}
{#- Incremental: partitioned by month, a run recomputes only the months staging rebuilt since. -#}
{{ config(materialized='incremental', incremental_strategy='insert_overwrite',
          partition_by='toYYYYMM(order_day)', pre_hook="{{ drop_vanished_partitions('toYYYYMM(order_day)', counted_orders_relation(), 'toYYYYMM(ordered_at)') }}",
          order_by='(customer_id, order_day)') }}

with orders as (
    select customer_id, ordered_at, amount, completed_at
    from {{ ref('stg_orders') }}
    where status in {{ counted_order_statuses() }}
    {%- if is_incremental() %}
      and toYYYYMM(ordered_at) in ({{ restaged_months('base_orders', 'ordered_at') }})
    {%- endif %}
)

select
    customer_id,
    toDate(ordered_at) as order_day,
    toUInt32(count()) as orders,
    toFloat64(sum(assumeNotNull(amount))) as spend,
    toFloat64(max(assumeNotNull(amount))) as max_order_amount,
    min(ordered_at) as first_order_at,
    max(ordered_at) as last_order_at,
    max(completed_at) as last_completed_at,
    {{ staged_through(['base_orders']) }} as _staged_through
from orders
group by customer_id, order_day

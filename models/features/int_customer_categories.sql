{#- One row per customer and product category as of as_of: items bought (units) and counted orders that
    contained the category. Feeds category_share, top_category and category_orders.
    A table rebuilt each night from the staged items and orders, not per day and incremental: category
    figures sum the whole history, so a per-day table (30 M rows at 1 M customers) only to be summed again
    by customer_features cost 39 s a night at 1 M customers where this costs about 9 s (BENCHMARKS.md).
    Items meet their orders on the hashed order id, and rows are grouped by the hashed customer id: the
    hash tables hold integers, not Strings (macros/staging/is_known.sql). -#}
{{ config(order_by='(customer_id, category)') }}

with orders as (
    select cityHash64(order_id) as order_key, cityHash64(customer_id) as customer_key, customer_id
    from {{ ref('stg_orders') }}
    {#- the whole days up to day_end: an order placed after it (before a later cutoff) waits for its day -#}
    where status in {{ counted_order_statuses() }} and ordered_at < {{ day_end() }}
),

items as (
    select cityHash64(order_id) as order_key, product_id, quantity
    from {{ ref('stg_order_items') }}
),

products as (
    select product_id, category
    from {{ ref('stg_products') }}
)

select
    any(orders.customer_id) as customer_id,
    products.category as category,
    toUInt32(sum(items.quantity)) as items,
    toUInt32(uniqExact(items.order_key)) as orders
from items
inner join orders on items.order_key = orders.order_key
inner join products on items.product_id = products.product_id
group by orders.customer_key, category

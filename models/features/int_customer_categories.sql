{#- One row per customer and product category as of as_of: items bought (units) and counted orders that
    contained the category. Feeds category_share, top_category and category_orders.
    A table rebuilt each night from the staged items and orders, not per day and incremental: category
    figures sum the whole history, so a per-day table (30 M rows at 1 M customers) only to be summed again
    by customer_features cost 39 s a night at 1 M customers where this costs about 11 s alone (BENCHMARKS.md).
    Integers all the way: items meet their orders on the hashed order id, and the 59 M joined rows are grouped
    by the hashed customer id and a number per category; the customer id and the category's name are put back
    on the result (5.8 M rows at 1 M customers). Carrying them through the join and the grouping as Strings
    cost half again as much (BENCHMARKS.md). -#}
{{ config(order_by='(customer_id, category)') }}

with orders as (
    select cityHash64(order_id) as order_key, cityHash64(customer_id) as customer_key
    from {{ ref('stg_orders') }}
    {#- the whole days up to day_end: an order placed after it (before a later cutoff) waits for its day -#}
    where status in {{ counted_order_statuses() }} and ordered_at < {{ day_end() }}
),

items as (
    select cityHash64(order_id) as order_key, product_id, quantity
    from {{ ref('stg_order_items') }}
),

products as (
    select product_id, category, toUInt32(dense_rank() over (order by category)) as category_number
    from {{ ref('stg_products') }}
),

categories as (
    select distinct category_number, category
    from products
),

{#- the customers features are computed for: an order is staged if its customer is in raw, whose row may be
    rejected (a signup after the cutoff) -#}
customers as (
    select cityHash64(customer_id) as customer_key, customer_id
    from {{ ref('stg_customers') }}
),

by_customer_key as (
    select
        orders.customer_key as customer_key,
        products.category_number as category_number,
        toUInt32(sum(items.quantity)) as items,
        toUInt32(uniqExact(items.order_key)) as orders
    from items
    inner join orders on items.order_key = orders.order_key
    inner join products on items.product_id = products.product_id
    group by customer_key, category_number
)

select
    customers.customer_id as customer_id,
    categories.category as category,
    by_customer_key.items as items,
    by_customer_key.orders as orders
from by_customer_key
inner join customers on by_customer_key.customer_key = customers.customer_key
inner join categories on by_customer_key.category_number = categories.category_number

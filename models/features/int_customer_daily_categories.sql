{#- One row per customer, order day and product category: items bought (units) and counted orders
    that contained the category. Feeds category_share, top_category and category_orders. -#}
{{ config(order_by='(customer_id, order_day, category)') }}

with orders as (
    select order_id, customer_id, toDate(ordered_at) as order_day
    from {{ ref('stg_orders') }}
    where status in {{ counted_order_statuses() }}
),

items as (
    select order_id, product_id, quantity
    from {{ ref('stg_order_items') }}
),

products as (
    select product_id, category
    from {{ ref('stg_products') }}
)

select
    orders.customer_id as customer_id,
    orders.order_day as order_day,
    products.category as category,
    toUInt32(sum(items.quantity)) as items,
    toUInt32(uniqExact(items.order_id)) as orders
from items
inner join orders on items.order_id = orders.order_id
inner join products on items.product_id = products.product_id
group by customer_id, order_day, category

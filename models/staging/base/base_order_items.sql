{#- Order items have no key of their own (the same product may appear twice in an order), so
    they are checked but not deduplicated. -#}
{{ config(order_by='(order_id, product_id)') }}

with source as (
    select * from {{ source('raw', 'order_items') }}
),

known_orders as (
    select order_id from {{ source('raw', 'orders') }}
),

known_products as (
    select product_id from {{ source('raw', 'products') }}
)

select
    *,
    {{ reject_reason([
        ("quantity <= 0", 'quantity is not positive'),
        ("unit_price is null", 'unit_price is null'),
        ("unit_price < 0", 'unit_price is negative'),
        ("order_id not in (select order_id from known_orders)", 'unknown order_id'),
        ("product_id not in (select product_id from known_products)", 'unknown product_id'),
    ]) }} as reject_reason
from source

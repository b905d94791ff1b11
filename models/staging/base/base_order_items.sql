{#- Order items have no key of their own (the same product may appear twice in an order), so
    they are checked but not deduplicated. -#}
{#- Incremental: partitioned by load day, a run rebuilds from raw only the load days that changed and
    those holding an item whose order or product has arrived since (macros/incremental/). -#}
{{ config(materialized='incremental', incremental_strategy='insert_overwrite',
          partition_by='toYYYYMMDD(_loaded_at)', pre_hook="{{ drop_vanished_partitions('toYYYYMMDD(_loaded_at)', source('raw', 'order_items')) }}",
          order_by='(order_id, product_id)') }}

with source as (
    select * from {{ source('raw', 'order_items') }}
    {%- if is_incremental() %}
    where toYYYYMMDD(_loaded_at) in (
        {{ changed_partitions(source('raw', 'order_items'), 'toYYYYMMDD(_loaded_at)') }}
        union distinct
        {{ partitions_to_recheck('toYYYYMMDD(_loaded_at)', [
            "reject_reason = 'unknown order_id' and " ~ is_known('order_id', source('raw', 'orders'),
                among="(select order_id from " ~ this ~ " where reject_reason = 'unknown order_id')"),
            "reject_reason = 'unknown product_id' and " ~ is_known('product_id', source('raw', 'products')),
        ]) }}
    )
    {%- endif %}
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
        ("not " ~ is_known('order_id', 'known_orders'), 'unknown order_id'),
        ("not " ~ is_known('product_id', 'known_products'), 'unknown product_id'),
    ]) }} as reject_reason,
    now64(3) as _staged_at
from source

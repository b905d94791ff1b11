{#- customer_id -> a dense UInt32, the element type of every bitmap. Append-only: new customers get
    the next numbers in customer_id order and nobody is ever renumbered, so a bitmap of any night
    means the same customers. The numbers are counted, never hashed or cast down from a wider
    type (toUInt32 would wrap silently); running out of them stops the build instead. -#}
{{ config(materialized='incremental', incremental_strategy='append', order_by='customer_id', full_refresh=false) }}

with new_customers as (
    select customer_id
    from {{ ref('customer_features') }}
    {% if is_incremental() -%}
    where customer_id not in (select customer_id from {{ this }})
    {%- endif %}
),

numbered as (
    select
        customer_id,
        {% if is_incremental() %}(select max(customer_index) from {{ this }}){% else %}0{% endif %}
            + row_number() over (order by customer_id) as next_number
    from new_customers
)

select
    customer_id,
    toUInt32(next_number + throwIf(next_number > 4294967295, 'customer_index is full: more than 4294967295 customers')) as customer_index,
    {{ as_of() }} as first_indexed_as_of
from numbered

{{ config(order_by='product_id') }}

with source as (
    select * from {{ source('raw', 'products') }}
),

checked as (
    select
        *,
        {{ reject_reason([
            ("product_id = ''", 'product_id is empty'),
            ("category = ''", 'category is empty'),
            ("list_price < 0", 'list_price is negative'),
        ]) }} as invalid_reason
    from source
)

select
    * except (invalid_reason),
    {{ superseded_reason('invalid_reason', 'product_id', '_loaded_at desc, list_price desc') }} as reject_reason
from checked

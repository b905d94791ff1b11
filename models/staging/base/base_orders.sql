{{ config(order_by='(customer_id, order_id)') }}

with source as (
    select * from {{ source('raw', 'orders') }}
),

known_customers as (
    select customer_id from {{ source('raw', 'customers') }}
),

checked as (
    select
        *,
        {{ reject_reason([
            ("order_id = ''", 'order_id is empty'),
            ("status not in ('pending_payment', 'paid', 'shipped', 'delivered', 'completed', 'cancelled', 'refunded')", 'unknown status'),
            ("amount is null", 'amount is null'),
            ("amount < 0", 'amount is negative'),
            ("ordered_at >= " ~ as_of_end(), 'ordered_at is after as_of'),
            ("customer_id not in (select customer_id from known_customers)", 'unknown customer_id'),
        ]) }} as invalid_reason
    from source
)

select
    * except (invalid_reason),
    {#- the latest load wins; within one load, the version furthest along its life -#}
    {{ superseded_reason('invalid_reason', 'order_id',
        '_loaded_at desc, greatest(ordered_at, ifNull(paid_at, ordered_at), ifNull(shipped_at, ordered_at), ifNull(delivered_at, ordered_at), ifNull(completed_at, ordered_at)) desc') }} as reject_reason
from checked

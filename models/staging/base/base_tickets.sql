{{ config(order_by='(customer_id, ticket_id)') }}

with source as (
    select * from {{ source('raw', 'tickets') }}
),

known_customers as (
    select customer_id from {{ source('raw', 'customers') }}
),

checked as (
    select
        *,
        {{ reject_reason([
            ("ticket_id = ''", 'ticket_id is empty'),
            ("kind not in ('complaint', 'question', 'urgent')", 'unknown kind'),
            ("opened_at >= " ~ cutoff(), 'opened_at is after as_of'),
            ("resolved_at < opened_at", 'resolved_at is before opened_at'),
            ("not " ~ is_known('customer_id', 'known_customers'), 'unknown customer_id'),
        ]) }} as invalid_reason
    from source
)

select
    * except (invalid_reason),
    {#- the latest load wins; within one load, a resolved version beats an open one -#}
    {{ superseded_reason('invalid_reason', 'ticket_id', '_loaded_at desc, ifNull(resolved_at, opened_at) desc') }} as reject_reason
from checked

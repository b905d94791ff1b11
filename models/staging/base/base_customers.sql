{{ config(order_by='customer_id') }}

with source as (
    select * from {{ source('raw', 'customers') }}
),

checked as (
    select
        *,
        {{ reject_reason([
            ("customer_id = ''", 'customer_id is empty'),
            ("signup_at >= " ~ cutoff(), 'signup_at is after as_of'),
        ]) }} as invalid_reason
    from source
)

select
    * except (invalid_reason),
    {{ superseded_reason('invalid_reason', 'customer_id', '_loaded_at desc, signup_at desc') }} as reject_reason
from checked

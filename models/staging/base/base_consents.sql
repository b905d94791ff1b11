{#- Consents are a history (the latest decision per customer and channel wins downstream);
    only exact repeats of one decision are duplicates. -#}
{{ config(order_by='(customer_id, channel, updated_at)') }}

with source as (
    select * from {{ source('raw', 'consents') }}
),

known_customers as (
    select customer_id from {{ source('raw', 'customers') }}
),

checked as (
    select
        *,
        {{ reject_reason([
            ("channel not in ('email', 'sms', 'whatsapp', 'push')", 'unknown channel'),
            ("updated_at >= " ~ cutoff(), 'updated_at is after as_of'),
            ("not " ~ is_known('customer_id', 'known_customers'), 'unknown customer_id'),
        ]) }} as invalid_reason
    from source
)

select
    * except (invalid_reason),
    {{ superseded_reason('invalid_reason', '(customer_id, channel, updated_at)', '_loaded_at desc, granted asc') }} as reject_reason
from checked

{#- Events have no key (two page views in the same second are two facts), so they are checked
    but not deduplicated. -#}
{{ config(order_by='(customer_id, event_at)') }}

with source as (
    select * from {{ source('raw', 'events') }}
),

known_customers as (
    select customer_id from {{ source('raw', 'customers') }}
)

select
    *,
    {{ reject_reason([
        ("event_type not in ('page_view', 'pricing_page_view', 'add_to_cart', 'email_sent', 'email_open', 'message_sent', 'message_reply', 'enquiry')", 'unknown event_type'),
        ("event_type in ('message_sent', 'message_reply') and message_id is null", 'message_id is missing'),
        ("event_at >= " ~ as_of_end(), 'event_at is after as_of'),
        ("customer_id not in (select customer_id from known_customers)", 'unknown customer_id'),
    ]) }} as reject_reason
from source

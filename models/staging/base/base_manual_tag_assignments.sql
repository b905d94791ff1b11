{#- An append-only log: every row is a fact, none is a duplicate of another. -#}
{{ config(order_by='(tag_key, customer_id, assigned_at)') }}

with source as (
    select * from {{ source('raw', 'manual_tag_assignments') }}
),

known_customers as (
    select customer_id from {{ source('raw', 'customers') }}
)

select
    *,
    {{ reject_reason([
        ("tag_key = ''", 'tag_key is empty'),
        ("action not in ('add', 'remove')", 'unknown action'),
        ("assigned_at >= " ~ cutoff(), 'assigned_at is after as_of'),
        ("not " ~ is_known('customer_id', 'known_customers'), 'unknown customer_id'),
    ]) }} as reject_reason
from source

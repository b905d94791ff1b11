{#- Identity edges are sightings, not versions: two identifiers seen together again are seen again, and the graph
    (models/identity/) counts each pair once. Ids are compared normalized (macros/identity/identifier.sql). -#}
{{ config(order_by='(id_type, id, other_id_type, other_id)') }}

with source as (
    select * from {{ source('raw', 'identity_edges') }}
),

known_customers as (
    select customer_id as id, customer_id as other_id from {{ source('raw', 'customers') }}
),

normalized as (
    select
        *,
        {{ normalized_identifier('id_type', 'id') }} as normalized_id,
        {{ normalized_identifier('other_id_type', 'other_id') }} as normalized_other_id
    from source
)

select
    *,
    {{ reject_reason([
        ("id_type not in " ~ identifier_types(), 'unknown id_type'),
        ("other_id_type not in " ~ identifier_types(), 'unknown other_id_type'),
        ("normalized_id = '' or normalized_other_id = ''", 'an identifier is empty'),
        ("id_type = 'phone' and not match(normalized_id, '^\\\\+[1-9][0-9]{6,14}$') or "
         ~ "other_id_type = 'phone' and not match(normalized_other_id, '^\\\\+[1-9][0-9]{6,14}$')", 'phone is not E.164'),
        ("id_type = 'email' and position(normalized_id, '@') = 0 or "
         ~ "other_id_type = 'email' and position(normalized_other_id, '@') = 0", 'email has no @'),
        ("id_type = other_id_type and normalized_id = normalized_other_id", 'links an identifier to itself'),
        ("seen_at >= " ~ cutoff(), 'seen_at is after as_of'),
        ("id_type = 'customer_id' and not " ~ is_known('id', 'known_customers') ~ " or "
         ~ "other_id_type = 'customer_id' and not " ~ is_known('other_id', 'known_customers'), 'unknown customer_id'),
    ]) }} as reject_reason
from normalized

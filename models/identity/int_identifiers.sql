{#- One row per identifier in the accepted identity edges: its key in the graph, how many other identifiers it
    is linked to, when it was first and last seen, and whether it is held back: linked to more than
    var('identity_max_links') others (a shared test phone, a default e-mail), it joins nobody and is reported in
    identity_held_back, so one bad identifier cannot merge thousands of customers into one. -#}
{{ config(order_by='node') }}

with edges as (
    select id_type, id, other_id_type, other_id, seen_at
    from {{ ref('stg_identity_edges') }}
),

ends as (
    select id_type, id, {{ identifier_key('id_type', 'id') }} as node,
           {{ identifier_key('other_id_type', 'other_id') }} as neighbour, seen_at
    from edges
    union all
    select other_id_type, other_id, {{ identifier_key('other_id_type', 'other_id') }},
           {{ identifier_key('id_type', 'id') }}, seen_at
    from edges
)

select
    node,
    any(id_type) as id_type,
    any(id) as id,
    toUInt32(uniqExact(neighbour)) as links,
    min(seen_at) as first_seen_at,
    max(seen_at) as last_seen_at,
    links > {{ var('identity_max_links') }} as held_back
from ends
group by node

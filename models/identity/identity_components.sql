{#- One row per identifier: the component of the identity graph it belongs to, labelled by the least graph key in it
    (so the label is the same whether the graph is rebuilt or extended by a late edge). stitched_customers names
    each component's customer: the least staged customer_id in it.
    The components are labelled in rounds of SQL before this model's query, from all links or extended by the
    new edges' (macros/identity/stitch_components.sql), into a work table it reads and drops. -#}
{{ config(
    order_by='(id_type, id)',
    pre_hook="{{ stitch_components(this, ref('stg_identity_edges'), ref('int_identifiers'), ref('int_identity_links'),
                                   var('identity_max_rounds')) }}",
    post_hook="drop table if exists {{ component_labels(this) }}",
) }}
-- depends_on: {{ ref('int_identity_links') }} {{ ref('stg_identity_edges') }}

with labelled as (
    select
        identifiers.id_type as id_type,
        identifiers.id as id,
        identifiers.node as node,
        identifiers.held_back as held_back,
        {#- a held-back identifier is in no link, so it has no label: it is a component of its own -#}
        if(labels.node = identifiers.node, labels.component, identifiers.node) as component
    from {{ ref('int_identifiers') }} as identifiers
    left join {{ component_labels(this) }} as labels on labels.node = identifiers.node
)

select
    id_type,
    id,
    node,
    component,
    held_back,
    {#- what the next night's stitching compares to decide whether it can extend these components -#}
    (select any(stitching) from {{ component_labels(this) }}) as stitching,
    {#- the edges read once for both (edges_state) -#}
    edges_read.1 as edges_loaded_until,
    edges_read.2 as edges_fingerprint
from labelled
cross join (select (max(_loaded_at), {{ identity_edges_fingerprint() }}) as edges_read
            from {{ ref('stg_identity_edges') }}) as edges_state

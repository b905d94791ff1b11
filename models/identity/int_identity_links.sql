{#- The identity graph's links, each once in both directions, between identifiers neither of which is held back
    (int_identifiers): what label_components joins into components. -#}
{{ config(order_by='(node, neighbour)') }}

with held_back as (
    select node from {{ ref('int_identifiers') }} where held_back
),

edges as (
    select distinct {{ identifier_key('id_type', 'id') }} as node, {{ identifier_key('other_id_type', 'other_id') }} as neighbour
    from {{ ref('stg_identity_edges') }}
),

kept as (
    select node, neighbour
    from edges
    where node not in (select node from held_back) and neighbour not in (select node from held_back)
)

select node, neighbour from kept
union distinct
select neighbour, node from kept

{#- Labels the identity graph's components into component_labels(model), for identity_components to read:
    (node, component, stitching), every identifier that is not held back.
    Extended, not rebuilt, when the last build's components still hold: the edges it was built from are all still
    accepted (their fingerprint is the one it recorded) and the same identifiers are held back (compared as a
    hash of the set: none crossed identity_max_links, and the limit did not change). Then only the links of the
    edges loaded since are labelled, between the earlier components (each contracted to its label) and the new
    identifiers: the rounds follow the new edges, not the history. Labels are least node keys, so extending
    gives exactly what rebuilding gives (tests/integration/test_identity.py). Otherwise, and on --full-refresh,
    every link is labelled. `stitching` says which was done, and why a rebuild. -#}
{% macro stitch_components(model, edges, identifiers, links, max_rounds) %}
    {%- if not execute %}{{ return('') }}{% endif -%}
    {%- set labels = component_labels(model) -%}
    {%- set previous = adapter.get_relation(database=model.database, schema=model.schema, identifier=model.identifier) -%}
    {%- set state = namespace(rebuild=none, until=none) -%}
    {%- if should_full_refresh() -%}
        {%- set state.rebuild = 'rebuilt: a full refresh' -%}
    {%- elif previous is none or not run_query("select count() from system.columns where database = '" ~ model.schema
                                                 ~ "' and table = '" ~ model.identifier ~ "' and name = 'edges_fingerprint'"
                                                 ).columns[0].values()[0] -%}
        {%- set state.rebuild = 'rebuilt: no earlier components' -%}
    {%- else -%}
        {%- set earlier = run_query(
            "select toString(any(edges_loaded_until)), "
            ~ "any(edges_fingerprint) = (select " ~ identity_edges_fingerprint() ~ " from " ~ edges
            ~ " where _loaded_at <= (select any(edges_loaded_until) from " ~ previous ~ ")), "
            ~ "sumIf(cityHash64(node), held_back) = (select sumIf(cityHash64(node), held_back) from " ~ identifiers ~ ") "
            ~ "from " ~ previous).rows[0] -%}
        {%- set state.until = earlier[0] -%}
        {%- if not earlier[1] -%}
            {%- set state.rebuild = 'rebuilt: edges of the last build changed (rejected or accepted since, or removed)' -%}
        {%- elif not earlier[2] -%}
            {%- set state.rebuild = 'rebuilt: the identifiers held back changed (one crossed identity_max_links, or it was changed)' -%}
        {%- endif -%}
    {%- endif -%}
    {%- if state.rebuild -%}
        {%- do label_components(links, labels, max_rounds) -%}
        {%- do run_query("alter table " ~ labels ~ " add column stitching String default '" ~ state.rebuild ~ "'") -%}
        {{ log("identity stitching " ~ state.rebuild, info=true) }}
    {%- else -%}
        {#- the new edges' links, each end as its earlier component's label (or itself, when new) -#}
        {%- do run_query("create or replace table " ~ labels ~ "__new_links " ~ label_table_engine() ~ " as "
            ~ "with held_back as (select node from " ~ identifiers ~ " where held_back), "
            ~ "earlier as (select node, component from " ~ previous ~ "), "
            ~ "new_links as (select distinct " ~ identifier_key('id_type', 'id') ~ " as a, "
            ~ identifier_key('other_id_type', 'other_id') ~ " as b from " ~ edges
            ~ " where _loaded_at > (select any(edges_loaded_until) from " ~ previous ~ ")), "
            ~ "contracted as (select if(ea.node = a, ea.component, a) as x, if(eb.node = b, eb.component, b) as y "
            ~ "from new_links left join earlier as ea on ea.node = new_links.a left join earlier as eb on eb.node = new_links.b "
            ~ "where a not in (select node from held_back) and b not in (select node from held_back)) "
            ~ "select x as node, y as neighbour from contracted union all select y, x from contracted") -%}
        {%- do label_components(labels ~ "__new_links", labels ~ "__merged", max_rounds) -%}
        {%- do run_query("create or replace table " ~ labels ~ " " ~ label_table_engine() ~ " as "
            ~ "select identifiers.node as node, if(merged.node = identifiers.start, merged.component, identifiers.start) as component, "
            ~ "'extended' as stitching "
            ~ "from (select current.node as node, if(earlier.node = current.node, earlier.component, current.node) as start "
            ~ "      from " ~ identifiers ~ " as current left join " ~ previous ~ " as earlier on earlier.node = current.node "
            ~ "      where not current.held_back) as identifiers "
            ~ "left join " ~ labels ~ "__merged as merged on merged.node = identifiers.start") -%}
        {%- do run_query("drop table if exists " ~ labels ~ "__new_links") -%}
        {%- do run_query("drop table if exists " ~ labels ~ "__merged") -%}
        {{ log("identity stitching extended by the edges loaded after " ~ state.until, info=true) }}
    {%- endif -%}
{% endmacro %}

{#- What the accepted edges are, as one number: equal for the same edges in any order. -#}
{% macro identity_edges_fingerprint() -%}
    sum(cityHash64(id_type, id, other_id_type, other_id, seen_at, _loaded_at))
{%- endmacro %}

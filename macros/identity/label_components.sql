{#- Connected components of the identity graph, in rounds of SQL until no label changes (ClickHouse has no
    recursion that stops on a graph's cycles). links: a relation of (node, neighbour) UInt64 pairs holding each link
    both ways. Writes the table `labels` (node, component): each linked node's component is the least node key of
    its component, so the answer does not depend on the order of the rows or of the rounds.
    Each round every node takes the least label among its own and its neighbours' (hook), then the label of that
    label (jump): a chain of n identifiers settles in about log2(n) rounds instead of n. Labels only fall, so a
    round that leaves their sum unchanged changed none. Not settled after max_rounds (var identity_max_rounds) is
    an error that names the setting: components are never published half-joined. -#}
{% macro label_components(links, labels, max_rounds) %}
    {%- if not execute %}{{ return('') }}{% endif -%}
    {%- set hooked = labels ~ '__hooked' -%}
    {%- set engine = "engine = MergeTree order by node settings max_bytes_to_merge_at_max_space_in_pool = 0" -%}
    {%- do run_query("create or replace table " ~ labels ~ " " ~ engine ~ " as select node, least(node, min(neighbour))"
                     ~ " as component from " ~ links ~ " group by node") -%}
    {%- set state = namespace(total=run_query("select toString(sum(toUInt128(component))) from " ~ labels).columns[0].values()[0],
                              rounds=0, settled=false) -%}
    {%- for round in range(max_rounds) -%}
        {%- do run_query("create or replace table " ~ hooked ~ " " ~ engine ~ " as "
                         ~ "select seen.node as node, min(labels.component) as component "
                         ~ "from (select node, neighbour from " ~ links ~ " union all select node, node from " ~ labels ~ ") as seen "
                         ~ "inner join " ~ labels ~ " as labels on labels.node = seen.neighbour group by seen.node") -%}
        {%- do run_query("create or replace table " ~ labels ~ " " ~ engine ~ " as "
                         ~ "select hooked.node as node, least(hooked.component, jumped.component) as component "
                         ~ "from " ~ hooked ~ " as hooked inner join " ~ hooked ~ " as jumped on jumped.node = hooked.component") -%}
        {%- set total = run_query("select toString(sum(toUInt128(component))) from " ~ labels).columns[0].values()[0] -%}
        {%- set state.rounds = round + 1 -%}
        {%- if total == state.total -%}
            {%- set state.settled = true -%}
            {%- break -%}
        {%- endif -%}
        {%- set state.total = total -%}
    {%- endfor -%}
    {%- do run_query("drop table if exists " ~ hooked) -%}
    {%- if not state.settled -%}
        {{ exceptions.raise_compiler_error("identity stitching: the components of " ~ links ~ " did not settle in "
            ~ max_rounds ~ " rounds (var identity_max_rounds in dbt_project.yml): raise it, or look in "
            ~ "identity.identity_held_back for identifiers that join too much") }}
    {%- endif -%}
    {{ log("identity stitching: the components of " ~ links ~ " settled in " ~ state.rounds ~ " rounds", info=true) }}
{% endmacro %}

{#- The work table a model's components are labelled into before its query reads it (and its post-hook drops it). -#}
{% macro component_labels(model) -%}
    {{ return(model.schema ~ '.' ~ model.identifier ~ '__labels') }}
{%- endmacro %}

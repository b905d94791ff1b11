{#- Connected components of the identity graph, in rounds of SQL until no label changes (ClickHouse has no
    recursion that stops on a graph's cycles). links: a relation of (node, neighbour) UInt64 pairs holding each link
    both ways. Writes the table `labels` (node, component): each linked node's component is the least node key of
    its component, so the answer does not depend on the order of the rows or of the rounds.
    Most identifiers hang off one other (an account's own e-mail, phone, union id: one link each), so the rounds run
    on the core only, the links between identifiers with more than one link: each core node starts from the least
    of its own key and its neighbours' (its leaves' keys come in there), a node with leaves only is settled by that,
    and a leaf takes its neighbour's label at the end. At 1 M customers the core is a few per cent of the graph.
    Each round every core node takes the least label among its own and its neighbours' (hook), then the label of
    that label (jump): a chain of n identifiers settles in about log2(n) rounds instead of n. Labels only fall, so a
    round that leaves their sum unchanged changed none. Not settled after max_rounds (var identity_max_rounds) is
    an error that names the setting: components are never published half-joined. The work tables are in memory:
    they live for one build. -#}
{% macro label_components(links, labels, max_rounds) %}
    {%- if not execute %}{{ return('') }}{% endif -%}
    {%- set degrees, core, core_labels, hooked = labels ~ '__degrees', labels ~ '__core', labels ~ '__core_labels', labels ~ '__hooked' -%}
    {%- set work = "engine = Memory" -%}
    {%- do run_query("create or replace table " ~ degrees ~ " " ~ work ~ " as select node, count() as degree, "
                     ~ "min(neighbour) as least_neighbour from " ~ links ~ " group by node") -%}
    {%- do run_query("create or replace table " ~ core ~ " " ~ work ~ " as select node, neighbour from " ~ links
                     ~ " where node in (select node from " ~ degrees ~ " where degree > 1)"
                     ~ " and neighbour in (select node from " ~ degrees ~ " where degree > 1)") -%}
    {%- do run_query("create or replace table " ~ core_labels ~ " " ~ work ~ " as select node, least(node, least_neighbour)"
                     ~ " as component from " ~ degrees ~ " where node in (select node from " ~ core ~ ")") -%}
    {%- set state = namespace(total=run_query("select toString(sum(toUInt128(component))) from " ~ core_labels).columns[0].values()[0],
                              rounds=0, settled=false) -%}
    {%- for round in range(max_rounds) -%}
        {%- do run_query("create or replace table " ~ hooked ~ " " ~ work ~ " as "
                         ~ "select seen.node as node, min(labels.component) as component "
                         ~ "from (select node, neighbour from " ~ core ~ " union all select node, node from " ~ core_labels ~ ") as seen "
                         ~ "inner join " ~ core_labels ~ " as labels on labels.node = seen.neighbour group by seen.node") -%}
        {#- a label may be a leaf's key, which has no row here: then it is already the least there is -#}
        {%- do run_query("create or replace table " ~ core_labels ~ " " ~ work ~ " as "
                         ~ "select hooked.node as node, least(hooked.component, "
                         ~ "if(jumped.node = hooked.component, jumped.component, hooked.component)) as component "
                         ~ "from " ~ hooked ~ " as hooked left join " ~ hooked ~ " as jumped on jumped.node = hooked.component") -%}
        {%- set total = run_query("select toString(sum(toUInt128(component))) from " ~ core_labels).columns[0].values()[0] -%}
        {%- set state.rounds = round + 1 -%}
        {%- if total == state.total -%}
            {%- set state.settled = true -%}
            {%- break -%}
        {%- endif -%}
        {%- set state.total = total -%}
    {%- endfor -%}
    {%- if state.settled -%}
        {#- every node with more than one link: its core label, or the least of itself and its leaves; then the leaves:
            their neighbour's label, or, for two leaves linked only to each other, the lesser of the two -#}
        {%- do run_query("create or replace table " ~ labels ~ " " ~ label_table_engine() ~ " as "
            ~ "with settled as (select centres.node as node, if(core_labels.node = centres.node, core_labels.component, "
            ~ "least(centres.node, centres.least_neighbour)) as component from " ~ degrees ~ " as centres "
            ~ "left join " ~ core_labels ~ " as core_labels on core_labels.node = centres.node where centres.degree > 1) "
            ~ "select node, component from settled union all "
            ~ "select leaves.node, if(settled.node = leaves.least_neighbour, settled.component, "
            ~ "least(leaves.node, leaves.least_neighbour)) from " ~ degrees ~ " as leaves "
            ~ "left join settled on settled.node = leaves.least_neighbour where leaves.degree = 1") -%}
    {%- endif -%}
    {%- for table in [degrees, core, core_labels, hooked] -%}
        {%- do run_query("drop table if exists " ~ table) -%}
    {%- endfor -%}
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

{#- The engine of the label tables identity_components reads: sorted by node for its join, written whole. -#}
{% macro label_table_engine() -%}
    engine = MergeTree order by node settings max_bytes_to_merge_at_max_space_in_pool = 0
{%- endmacro %}

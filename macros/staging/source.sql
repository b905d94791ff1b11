{#- source('raw', ...) as staging sees it: without the rows of a `tags load` that died half-way
    (started in raw.load_log but neither committed nor cleaned up; orchestration/warehouse/contract.py). Those
    rows stay invisible until the next `tags load` removes them, so a killed load is all or nothing for
    every model and test reading raw (row_count_equals, changed_partitions, drop_vanished_partitions).
    Loads and refreshes take the same lock, so the set cannot change during a run. With no such load
    (the usual case) this is the plain relation. -#}
{% macro source(source_name, table_name) -%}
    {%- set relation = builtins.source(source_name, table_name) -%}
    {%- if source_name != 'raw' or not execute -%}
        {{- return(relation) -}}
    {%- endif -%}
    {%- set hidden = unfinished_loads() -%}
    {%- if hidden | length == 0 -%}
        {{- return(relation) -}}
    {%- endif -%}
    {{- return("(select * from " ~ relation ~ " where _load_id not in ('" ~ hidden | join("', '") ~ "'))") -}}
{%- endmacro %}


{#- The ids of the unfinished loads (load-<hex>, written by the loader: only such ids are taken, so
    they need no quoting). -#}
{% macro unfinished_loads() -%}
    {%- if not load_log_exists() -%}
        {{- return([]) -}}
    {%- endif -%}
    {%- set found = run_query(unfinished_loads_query()) -%}
    {{- return(found.rows | map(attribute=0) | list) -}}
{%- endmacro %}


{#- The query of the unfinished loads' ids, for the macro above and for views that must hide those
    rows when they are read, not when they are built (visible_raw_rows). -#}
{% macro unfinished_loads_query() -%}
    select load_id from raw.load_log where match(load_id, '^[A-Za-z0-9_-]+$')
    group by load_id having countIf(state in ('committed', 'cleaned')) = 0
{%- endmacro %}


{% macro load_log_exists() -%}
    {{- return(execute and run_query("select count() from system.tables where database = 'raw' and name = 'load_log'").rows[0][0] | int > 0) -}}
{%- endmacro %}


{#- A raw table as staging sees it at the moment a view is read (source() above decides when a model
    is built): without the rows of the loads unfinished at that moment. For the views that compare raw
    with staging or read raw live (row_accounting, stg_consents_latest), so a load killed after the
    last build is hidden from them too. -#}
{% macro visible_raw_rows(table_name) -%}
    {%- set relation = builtins.source('raw', table_name) -%}
    {%- if load_log_exists() -%}
        (select * from {{ relation }} where _load_id not in ({{ unfinished_loads_query() }}))
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}

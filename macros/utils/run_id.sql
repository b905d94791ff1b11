{#- The id of this refresh: every row the run writes to the tag store carries it, and publishing
    is one row naming it in tag_store.publish_log. The CLI and Dagster pass run_id among the run's values
    (macros/utils/run_var.sql); a bare `dbt build` falls back to dbt's own invocation id. -#}
{% macro run_id() -%}
    '{{ run_var('run_id', invocation_id) }}'
{%- endmacro %}

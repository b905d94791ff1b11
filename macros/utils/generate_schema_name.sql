{#- A folder's +schema is the ClickHouse database its models land in, named exactly so
    (staging, features, tags, ...), on every target. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ (custom_schema_name or target.schema) | trim }}
{%- endmacro %}

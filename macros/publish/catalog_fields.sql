{#- The catalog row's fields whose changes catalog_changes records, as a Map(field, text). -#}
{% macro catalog_fields() -%}
    map(
    {%- for column in ['tag_name', 'category', 'method', 'value_type', 'rule', 'params', 'owner', 'description',
                       'status', 'coverage_min', 'coverage_max', 'blocking_checks', 'when_blocked', 'evaluated_at', 'lane'] %}
        '{{ column }}', toString({{ column }}){{ ',' if not loop.last }}
    {%- endfor %}
    )
{%- endmacro %}

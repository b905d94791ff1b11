{#- The reject reason of a raw row: the first rule it breaks, '' when it breaks none.
    rules: list of (condition, reason) pairs, checked in order. -#}
{% macro reject_reason(rules) -%}
    multiIf(
        {%- for condition, reason in rules %}
        {{ condition }}, '{{ reason }}',
        {%- endfor %}
        ''
    )
{%- endmacro %}

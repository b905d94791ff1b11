{#- A tag value as the String stored in the long table, and the condition for "has the tag":
    a flag is '1' when the rule is true, a label its non-empty text, a number its value; labels (several per
    customer) the array of its distinct non-empty texts, sorted, which rule_tag unfolds into one row per value. -#}
{% macro tag_value(expression, value_type) -%}
    {{ return(adapter.dispatch('tag_value', 'customer_tags')(expression, value_type)) }}
{%- endmacro %}

{% macro clickhouse__tag_value(expression, value_type) -%}
    {%- if value_type == 'flag' -%} if(toBool({{ expression }}), '1', '')
    {%- elif value_type == 'number' -%} ifNull(toString(round(toFloat64({{ expression }}), 4)), '')
    {%- elif value_type == 'labels' -%} arraySort(arrayDistinct(arrayFilter(value -> value != '', arrayMap(value -> toString(value), ifNull({{ expression }}, [])))))
    {%- else -%} ifNull(toString({{ expression }}), '')
    {%- endif -%}
{%- endmacro %}

{% macro default__tag_value(expression, value_type) -%}
    {%- if value_type == 'flag' -%} case when {{ expression }} then '1' else '' end
    {%- else -%} coalesce(cast({{ expression }} as varchar), '')
    {%- endif -%}
{%- endmacro %}

{#- A rule tag: the catalog expression evaluated on every customer's features; a labels tag has one row per
    value (arrayJoin of its array: a customer without any value has no row). -#}
{% macro rule_tag(row, features) -%}
with evaluated as (
    select
        as_of,
        customer_id,
        {% if row['value_type'] == 'labels' -%}
        arrayJoin({{ tag_value('(' ~ row['rule'] ~ ')', 'labels') }})
        {%- else -%}
        {{ tag_value('(' ~ row['rule'] ~ ')', row['value_type']) }}
        {%- endif %} as tag_value
    from {{ features }}
)

select as_of, customer_id, '{{ row['tag_key'] }}' as tag_key, tag_value
from evaluated
where tag_value != ''
{%- endmacro %}

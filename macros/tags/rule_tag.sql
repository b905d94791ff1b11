{#- A rule tag: the catalog expression evaluated on every customer's features. -#}
{% macro rule_tag(row, features) -%}
with evaluated as (
    select
        as_of,
        customer_id,
        {{ tag_value('(' ~ row['rule'] ~ ')', row['value_type']) }} as tag_value
    from {{ features }}
)

select as_of, customer_id, '{{ row['tag_key'] }}' as tag_key, tag_value
from evaluated
where tag_value != ''
{%- endmacro %}

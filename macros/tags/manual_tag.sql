{#- A manual tag: customers whose latest add/remove for the tag (up to as_of) is an add. -#}
{% macro manual_tag(row, manual) -%}
with latest as (
    select customer_id, argMax(action, assigned_at) as action
    from {{ manual }}
    where tag_key = '{{ row['tag_key'] }}'
    group by customer_id
)

select {{ as_of() }} as as_of, customer_id, '{{ row['tag_key'] }}' as tag_key, '1' as tag_value
from latest
where action = 'add'
{%- endmacro %}

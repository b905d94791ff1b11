{#- A manual tag: customers whose latest add/remove for the tag (up to as_of) is an add. Only
    customers in the feature mart count, so every tagged customer has a row in customer_index. -#}
{% macro manual_tag(row, manual, features) -%}
with latest as (
    {#- assigned_at is to the second: within one, the row loaded later wins (`tag remove` then `tag add`
        in the same second means add); at the same instant 'remove' > 'add', so a tie never depends on row order -#}
    select customer_id, argMax(action, (assigned_at, _loaded_at, action)) as action
    from {{ manual }}
    where tag_key = '{{ row['tag_key'] }}'
    group by customer_id
)

select {{ as_of() }} as as_of, customer_id, '{{ row['tag_key'] }}' as tag_key, '1' as tag_value
from latest
where action = 'add' and customer_id in (select customer_id from {{ features }})
{%- endmacro %}

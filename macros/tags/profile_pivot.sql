{#- The wide profile of a run: one row per customer of the feature mart, one column per tag of `tags`
    (tag_key -> value_type, in the catalog's order; `tags catalog sync` writes the list from the catalog).
    A flag is 0/1, a label its text ('' = none), a number Nullable(Float64) (NULL = none). Every tag column
    is Nullable, so a column a later catalog adds reads NULL (not computed) on the rows of earlier runs. -#}
{% macro profile_pivot(tags) -%}
with pivot as (
    select
        customer_id
        {%- for tag_key, value_type in tags.items() %},
        {% if value_type == 'flag' -%}
        toUInt8(countIf(tag_key = '{{ tag_key }}') > 0)
        {%- elif value_type == 'number' -%}
        toFloat64OrNull(anyIf(tag_value, tag_key = '{{ tag_key }}'))
        {%- else -%}
        anyIf(tag_value, tag_key = '{{ tag_key }}')
        {%- endif %} as {{ tag_key }}
        {%- endfor %}
    from {{ ref('all_tags') }}
    group by customer_id
)

-- customers without any tag keep the defaults: 0 for flags, '' for labels, NULL for numbers
select
    {{ run_id() }} as run_id,
    features.as_of as as_of,
    features.customer_id as customer_id
    {%- for tag_key in tags %},
    toNullable(pivot.{{ tag_key }}) as {{ tag_key }}
    {%- endfor %}
from {{ ref('customer_features') }} as features
left join pivot on pivot.customer_id = features.customer_id
{%- endmacro %}

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

{#- The stored table's columns keep their order and the run fills them by position (dbt-clickhouse inserts
    into the table's column list): the table's columns first, a tag the catalog no longer has as a NULL of its stored type (publishing
    drops its column once no published view reads it), then the new tags, which the append_new_columns pre-hook
    adds at the end in this order. -#}
{%- set columns = [] %}
{%- set stored_types = {} %}
{%- if execute and is_incremental() %}
    {%- for column in adapter.get_columns_in_relation(this) if column.name not in ['run_id', 'as_of', 'customer_id'] %}
        {%- do columns.append(column.name) %}
        {%- do stored_types.update({column.name: column.data_type}) %}
    {%- endfor %}
{%- endif %}
{%- for tag_key in tags if tag_key not in columns %}
    {%- do columns.append(tag_key) %}
{%- endfor %}

-- customers without any tag keep the defaults: 0 for flags, '' for labels, NULL for numbers
select
    {{ run_id() }} as run_id,
    features.as_of as as_of,
    features.customer_id as customer_id
    {%- for column in columns %},
    {{ 'toNullable(pivot.' ~ column ~ ')' if column in tags else 'cast(null as ' ~ stored_types[column] ~ ')' }} as {{ column }}
    {%- endfor %}
from {{ ref('customer_features') }} as features
left join pivot on pivot.customer_id = features.customer_id
{%- endmacro %}

{#- The wide profile of a run: one row per customer of the feature mart, one column per tag of `tags`
    (tag_key -> value_type, in the catalog's order; `tags catalog sync` writes the list from the catalog).
    A flag is 0/1, a label its text ('' = none), a number Nullable(Float64) (NULL = none), labels an Array(String)
    of the customer's values, sorted ([] = none). Every other tag column is Nullable, so a column a later catalog
    adds reads NULL (not computed) on the rows of earlier runs; an array cannot be, and reads [] there. -#}
{% macro profile_pivot(tags) -%}
{#- One map of a customer's tags per customer, then one column per tag read from it: a group by holding one
    aggregate state per tag for every customer took 8.2 GiB at 1 M customers (3.1 GiB alone) and spilled to disk
    at 5 M (230 s, 10.6 GiB); the map takes 5.2 (2.0) GiB, same rows. -#}
{#- A labels tag has several rows per customer, so its values are gathered apart and kept out of the map. Rows
    are grouped by the hashed customer id (an integer key) and joined back on it. Both at 1 M customers: 12.3-14.3 s
    and 8.4-8.8 GiB before, 8.5-10.2 s and 4.4-4.8 GiB after, the same rows (BENCHMARKS.md). -#}
{%- set labels_tags = [] %}
{%- for tag_key, value_type in tags.items() if value_type == 'labels' %}{% do labels_tags.append(tag_key) %}{% endfor %}
{%- set in_map = "tag_key not in ('" ~ labels_tags | join("', '") ~ "')" if labels_tags else 'true' %}
with tag_maps as (
    select cityHash64(customer_id) as customer_key,
           mapFromArrays(groupArrayIf(tag_key, {{ in_map }}), groupArrayIf(tag_value, {{ in_map }})) as tag_values
        {%- for tag_key in labels_tags %},
        arraySort(groupArrayIf(tag_value, tag_key = '{{ tag_key }}')) as {{ tag_key }}__values
        {%- endfor %}
    from {{ ref('all_tags') }}
    group by customer_key
),

pivot as (
    select
        customer_key
        {%- for tag_key, value_type in tags.items() %},
        {% if value_type == 'flag' -%}
        toUInt8(mapContains(tag_values, '{{ tag_key }}'))
        {%- elif value_type == 'number' -%}
        toFloat64OrNull(tag_values['{{ tag_key }}'])
        {%- elif value_type == 'labels' -%}
        {{ tag_key }}__values
        {%- else -%}
        tag_values['{{ tag_key }}']
        {%- endif %} as {{ tag_key }}
        {%- endfor %}
    from tag_maps
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
    {%- if column not in tags %}
    {{ 'cast([] as Array(String))' if stored_types[column].startswith('Array') else 'cast(null as ' ~ stored_types[column] ~ ')' }} as {{ column }}
    {%- elif tags[column] == 'labels' %}
    pivot.{{ column }} as {{ column }}
    {%- else %}
    toNullable(pivot.{{ column }}) as {{ column }}
    {%- endif %}
    {%- endfor %}
from {{ ref('customer_features') }} as features
left join pivot on pivot.customer_key = cityHash64(features.customer_id)
{%- endmacro %}

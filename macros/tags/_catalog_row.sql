{#- The catalog row of one tag, as a dict, read from the tag_catalog seed at run time. -#}
{% macro _catalog_row(tag_key) -%}
    {%- set sql -%}
        select * from {{ ref('tag_catalog') }} where tag_key = '{{ tag_key }}'
    {%- endset -%}
    {%- set table = run_query(sql) -%}
    {%- if table.rows | length != 1 -%}
        {{ exceptions.raise_compiler_error("tag model '" ~ tag_key ~ "' has " ~ (table.rows | length) ~ " rows in seeds/tag_catalog.csv (expected exactly one); run `tags catalog sync` after editing the catalog") }}
    {%- endif -%}
    {%- set row = {} -%}
    {%- for column in table.column_names -%}
        {%- do row.update({column: table.rows[0][column]}) -%}
    {%- endfor -%}
    {{ return(row) }}
{%- endmacro %}

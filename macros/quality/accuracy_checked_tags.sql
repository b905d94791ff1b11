{#- The catalog rows accuracy sampling re-evaluates: rule, score and manual tags, not archived.
    rfm tags rank a customer against all others and sql tags are hand-written: a per-customer
    recomputation does not apply to them (the RFM model has its own tests). -#}
{% macro accuracy_checked_tags() -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set table = run_query("select * from " ~ ref('tag_catalog') ~ " where method in ('rule', 'score', 'manual') and status != 'archived' order by tag_key") -%}
    {%- set rows = [] -%}
    {%- for record in table.rows -%}
        {%- set row = {} -%}
        {%- for column in table.column_names -%}
            {%- do row.update({column: record[column]}) -%}
        {%- endfor -%}
        {%- do rows.append(row) -%}
    {%- endfor -%}
    {{ return(rows) }}
{%- endmacro %}

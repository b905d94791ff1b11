{#- The catalog's labels tags (several values per customer) as a list for `tag_key in ...`, from the tag models' meta
    (no read of the catalog table, so a run of any lane has it): the places that count a tag's members, or pair its
    values per customer, count each such customer once and each value apart. -#}
{% macro labels_tag_keys() -%}
    {%- set keys = [] -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.config.meta.get('value_type') == 'labels' -%}
            {%- do keys.append(node.config.meta['tag_key']) -%}
        {%- endfor -%}
    {%- endif -%}
    ('{{ keys | sort | join("', '") }}')
{%- endmacro %}

{#- A tag's customers among its rows, in a query grouped by tag_key: the rows for a tag of one row per customer, the
    distinct customers for a labels tag (a row per value; only its rows are hashed). condition: the rows that count. -#}
{% macro tag_customers(condition='1') -%}
    if(tag_key in {{ labels_tag_keys() }}, uniqExactIf(customer_id, tag_key in {{ labels_tag_keys() }} and ({{ condition }})),
       countIf({{ condition }}))
{%- endmacro %}

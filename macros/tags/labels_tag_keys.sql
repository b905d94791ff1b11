{#- The catalog's labels tags (several values per customer), as a subquery for `tag_key in ...`: the places that
    count a tag's members, or pair its values per customer, count each such customer once and each value apart. -#}
{% macro labels_tag_keys() -%}
    (select tag_key from {{ ref('tag_catalog') }} where value_type = 'labels')
{%- endmacro %}

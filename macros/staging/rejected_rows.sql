{#- Rows of a base model that broke a contract rule, with their reject_reason. -#}
{% macro rejected_rows(base_model) -%}
select *
from {{ ref(base_model) }}
where reject_reason != ''
{%- endmacro %}

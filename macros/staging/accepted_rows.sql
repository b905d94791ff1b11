{#- A staging model's two halves: rows that passed every contract rule, and rejects with their reason. -#}
{% macro accepted_rows(base_model, columns) -%}
select
    {{ columns | join(',\n    ') }}
from {{ ref(base_model) }}
where reject_reason = ''
{%- endmacro %}

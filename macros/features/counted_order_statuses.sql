{#- Orders that count as purchases: paid or later, not cancelled, not refunded, not awaiting payment. -#}
{% macro counted_order_statuses() -%}
    ('paid', 'shipped', 'delivered', 'completed')
{%- endmacro %}


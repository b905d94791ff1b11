{#- Orders that count as purchases: paid or later, not cancelled, not refunded, not awaiting payment. -#}
{% macro counted_order_statuses() -%}
    ('paid', 'shipped', 'delivered', 'completed')
{%- endmacro %}


{#- The counted orders as a relation, for the per-day models' pre-hook: a month with none left loses its rows. -#}
{% macro counted_orders_relation() -%}
    (select ordered_at from {{ ref('stg_orders') }} where status in {{ counted_order_statuses() }})
{%- endmacro %}

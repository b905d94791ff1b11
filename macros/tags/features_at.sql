{#- The features a catalog row's rule reads: customer_features (the as_of day whole), with the state of open
    orders and tickets taken at the run's cutoff instead when the row says evaluated_at = cutoff
    (customer_state_at_cutoff; a customer without a row there has none). The aliases are not the names of
    databases (features, quality), which ClickHouse would read them as. -#}
{% macro features_at(row, features, state_at_cutoff) -%}
    {%- if row.get('evaluated_at', 'day_end') == 'cutoff' -%}
(select whole_day.* except ({{ customer_state_columns() | join(', ') }}),
        {%- for column in customer_state_columns() %}
        at_cutoff.{{ column }} as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
 from {{ features }} as whole_day
 left join {{ state_at_cutoff }} as at_cutoff on at_cutoff.customer_id = whole_day.customer_id)
    {%- else -%}
{{ features }}
    {%- endif -%}
{%- endmacro %}

{#- The columns customer_state() computes, besides customer_id. -#}
{% macro customer_state_columns() -%}
    {{ return(['has_order_awaiting_payment', 'has_order_paid_awaiting_shipment', 'has_order_in_transit',
               'open_complaints', 'complaints_resolved_30d', 'open_urgent_tickets']) }}
{%- endmacro %}

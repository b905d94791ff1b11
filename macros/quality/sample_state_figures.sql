{#- The accuracy sample's open orders and tickets at one instant, per sampled customer: the same state as
    macros/features/customer_state.sql by other arithmetic (each order's status at the instant is the
    furthest stage it had reached by then; a stage without a recorded time counts as reached before it),
    so a slip in either shows up as a mismatch. -#}
{% macro sample_state_figures(instant) -%}
{%- set stages = [('paid', 'paid_at'), ('shipped', 'shipped_at'), ('delivered', 'delivered_at')] -%}
with staged as (
    select
        customer_id, ordered_at, paid_at,
        indexOf(['pending_payment', 'paid', 'shipped', 'delivered', 'completed'], status) - 1 as final_stage,
        {%- for name, time in stages %}
        final_stage >= {{ loop.index }} and ifNull({{ time }} < {{ instant }}, 1) as {{ name }}_by_then{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('accuracy_sample_orders') }}
    where ordered_at < {{ instant }} and status not in ('cancelled', 'refunded')
),

order_state as (
    select
        customer_id,
        toUInt8(max(not paid_by_then and ordered_at < {{ instant }} - toIntervalHour(1))) as has_order_awaiting_payment,
        toUInt8(max(ifNull(paid_by_then and not shipped_by_then and paid_at >= {{ instant }} - toIntervalHour(24)
                           and paid_at < {{ instant }}, 0))) as has_order_paid_awaiting_shipment,
        toUInt8(max(shipped_by_then and not delivered_by_then)) as has_order_in_transit
    from staged
    group by customer_id
),

ticket_state as (
    select
        customer_id,
        toUInt32(countIf(kind = 'complaint' and ifNull(resolved_at >= {{ instant }}, 1))) as open_complaints,
        toUInt32(countIf(kind = 'complaint' and resolved_at < {{ instant }} and resolved_at >= toDateTime({{ as_of() }} - 30))) as complaints_resolved_30d,
        toUInt32(countIf(kind = 'urgent' and ifNull(resolved_at >= {{ instant }}, 1))) as open_urgent_tickets
    from {{ ref('stg_tickets') }}
    where source_customer_id in {{ accounts_of("select customer_id from " ~ ref('accuracy_sample_customers')) }} and opened_at < {{ instant }}
    group by customer_id
)

select
    if(order_state.customer_id = '', ticket_state.customer_id, order_state.customer_id) as customer_id,
    order_state.has_order_awaiting_payment as has_order_awaiting_payment,
    order_state.has_order_paid_awaiting_shipment as has_order_paid_awaiting_shipment,
    order_state.has_order_in_transit as has_order_in_transit,
    ticket_state.open_complaints as open_complaints,
    ticket_state.complaints_resolved_30d as complaints_resolved_30d,
    ticket_state.open_urgent_tickets as open_urgent_tickets
from order_state
full outer join ticket_state on ticket_state.customer_id = order_state.customer_id
{%- endmacro %}

{#- Each customer's open orders and tickets at one instant: the state the transaction and service tags read
    (awaiting payment, paid awaiting shipment, in transit, open complaints and urgent tickets).
    customer_features evaluates it at day_end(), customer_state_at_cutoff at the run's cutoff().
    Staging holds each order's latest version, which may have moved on after the instant (paid at 01:00
    after a 00:00 instant): the status at the instant is read back from the order's lifecycle times, so a
    replay gives the same state whatever was loaded later. Cancelled and refunded orders carry no time of
    their own and count as such from their order time. Only customers with some state have a row. -#}
{% macro customer_state(instant) -%}
select
    customer_id,
    toUInt8(max(awaiting_payment)) as has_order_awaiting_payment,
    toUInt8(max(paid_awaiting_shipment)) as has_order_paid_awaiting_shipment,
    toUInt8(max(in_transit)) as has_order_in_transit,
    toUInt32(sum(open_complaint)) as open_complaints,
    toUInt32(sum(complaint_resolved_30d)) as complaints_resolved_30d,
    toUInt32(sum(open_urgent)) as open_urgent_tickets
from (
    select
        customer_id,
        {#- unpaid for more than an hour at the instant -#}
        toUInt8(ifNull(ordered_at < {{ instant }} - toIntervalHour(1)
                       and (status = 'pending_payment' or (status in ('paid', 'shipped', 'delivered', 'completed')
                                                             and paid_at >= {{ instant }})), 0)) as awaiting_payment,
        {#- paid within the 24 hours before the instant, not shipped by it -#}
        toUInt8(ifNull(paid_at < {{ instant }} and paid_at >= {{ instant }} - toIntervalHour(24)
                       and (status = 'paid' or (status in ('shipped', 'delivered', 'completed') and shipped_at >= {{ instant }})), 0))
            as paid_awaiting_shipment,
        toUInt8(ifNull((status = 'shipped' and ifNull(shipped_at < {{ instant }}, 1))
                       or (status in ('delivered', 'completed') and shipped_at < {{ instant }} and delivered_at >= {{ instant }}), 0))
            as in_transit,
        toUInt8(0) as open_complaint, toUInt8(0) as complaint_resolved_30d, toUInt8(0) as open_urgent
    from {{ ref('stg_orders') }}
    where ordered_at < {{ instant }}
      and (status in ('pending_payment', 'paid', 'shipped') or paid_at >= {{ instant }} or shipped_at >= {{ instant }}
           or delivered_at >= {{ instant }})
    union all
    select
        customer_id, 0, 0, 0,
        toUInt8(kind = 'complaint' and ifNull(resolved_at >= {{ instant }}, 1)),
        toUInt8(kind = 'complaint' and ifNull(resolved_at < {{ instant }} and toDate(resolved_at) >= {{ as_of() }} - 30, 0)),
        toUInt8(kind = 'urgent' and ifNull(resolved_at >= {{ instant }}, 1))
    from {{ ref('stg_tickets') }}
    where opened_at < {{ instant }}
)
group by customer_id
{%- endmacro %}

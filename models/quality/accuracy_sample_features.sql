{#- The accuracy sample's features, recomputed by a second, independent path: straight from the
    staging rows of each sampled customer (no per-day models, no customer_features), written apart
    from models/features/ on purpose. The sampled customers' tags are then re-evaluated on these
    (accuracy_sample_tags) and compared with the run's tags (accuracy_mismatches): a bug anywhere
    between staging and the tags shows up as a disagreement. The sample and its orders and events:
    accuracy_sample_customers, accuracy_sample_orders, accuracy_sample_events. -#}
{{ config(order_by='customer_id') }}
{%- set day = as_of() %}
{%- set day_end = day_end() %}

with sample as (
    select customer_id from {{ ref('accuracy_sample_customers') }}
),

sampled_orders as (
    select * from {{ ref('accuracy_sample_orders') }}
),

purchases as (
    select * from sampled_orders where status in {{ counted_order_statuses() }} and ordered_at < {{ day_end }}
),

purchase_figures as (
    select
        customer_id,
        {%- for n in [30, 60, 90, 180, 365] %}
        toUInt32(countIf(ordered_on >= {{ day }} - {{ n }})) as orders_{{ n }}d,
        round(toFloat64(sumIf(amount, ordered_on >= {{ day }} - {{ n }})), 2) as spend_{{ n }}d,
        {%- endfor %}
        toUInt32(count()) as orders_total,
        round(toFloat64(sum(amount)), 2) as spend_total,
        toFloat64(maxIf(amount, ordered_on >= {{ day }} - 365)) as max_order_amount_365d,
        min(ordered_at) as first_order_at,
        max(ordered_at) as last_order_at,
        max(completed_at) as last_completed_at
    from purchases
    group by customer_id
),

bought_units as (
    select purchases.customer_id as customer_id, products.category as category,
           toUInt32(sum(items.quantity)) as units, toUInt32(uniqExact(purchases.order_id)) as orders
    {# items of the sampled orders only, found through base_order_items' primary key (order_id) before the join #}
    from (select * from {{ ref('stg_order_items') }} where order_id in (select order_id from purchases)) as items
    inner join purchases on purchases.order_id = items.order_id
    inner join {{ ref('stg_products') }} as products on products.product_id = items.product_id
    group by customer_id, category
),

category_figures as (
    select
        customer_id,
        mapFromArrays(groupArray(category), arrayMap(u -> u / sum(units), groupArray(toFloat64(units)))) as category_share,
        argMin(category, (-toInt64(units), category)) as top_category,
        max(units) / sum(units) as top_category_share,
        mapFromArrays(groupArray(category), groupArray(orders)) as category_orders
    from bought_units
    group by customer_id
),

state_figures as (
    {{ sample_state_figures(day_end) }}
),

sampled_events as (
    select * from {{ ref('accuracy_sample_events') }}
    where event_at < {{ day_end }} or event_type in ('message_reply', 'email_open')
),

browsing_figures as (
    select
        customer_id,
        toUInt32(countIf(event_type = 'pricing_page_view' and toDate(event_at) >= {{ day }} - 30)) as pricing_page_views_30d,
        sumMapIf(map(assumeNotNull(product_category), toUInt32(1)),
                 event_type = 'enquiry' and product_category is not null and toDate(event_at) >= {{ day }} - 90)
            as category_enquiries_90d
    from sampled_events
    group by customer_id
),

{#- each message we sent, with its first reply (or open); the id is made non-Nullable so that an
    unmatched send reads '' (a NULL would be skipped by the aggregates below) -#}
sends as (
    select customer_id, assumeNotNull(message_id) as message_id, event_at as sent_at, event_type = 'email_sent' as is_email,
           campaign_id is not null as is_campaign
    from sampled_events
    where event_type in ('message_sent', 'email_sent') and message_id is not null
      and toDate(event_at) >= {{ day }} - 90
),

responses as (
    select customer_id, assumeNotNull(message_id) as message_id, min(event_at) as responded_at
    from sampled_events
    where event_type in ('message_reply', 'email_open') and message_id is not null
    group by customer_id, message_id
),

conversations as (
    select sends.*, responses.message_id != '' as has_response, responses.responded_at as responded_at
    from sends
    left join responses on responses.customer_id = sends.customer_id and responses.message_id = sends.message_id
),

message_figures as (
    select
        customer_id,
        toUInt32(countIf(not is_email)) as messages_sent_90d,
        toUInt32(countIf(not is_email and has_response)) as replies_90d,
        if(countIf(not is_email and is_campaign) = 0, 0,
           countIf(not is_email and is_campaign and has_response) / countIf(not is_email and is_campaign)) as broadcast_reply_rate_90d,
        if(countIf(not is_email) = 0, 0,
           countIf(not is_email and has_response and responded_at <= sent_at + toIntervalDay(7)) / countIf(not is_email)) as reply_rate_7d,
        if(countIf(not is_email) = 0, 0,
           countIf(not is_email and has_response and responded_at <= sent_at + toIntervalHour(24)) / countIf(not is_email)) as replied_within_24h_rate,
        toUInt32(countIf(is_email)) as emails_sent_90d,
        if(countIf(is_email) = 0, 0, countIf(is_email and has_response) / countIf(is_email)) as email_open_rate_90d,
        toUInt8(argMaxIf(has_response, (sent_at, has_response), not is_email and is_campaign)) as last_campaign_responded
    from conversations
    group by customer_id
),

{#- per account (source_customer_id), then granted when any account's latest decision is -#}
consent_figures as (
    select
        customer_id,
        {%- for channel in ['email', 'sms', 'whatsapp', 'push'] %}
        max(consent_{{ channel }}) as consent_{{ channel }}{{ ',' if not loop.last }}
        {%- endfor %}
    from (
        select
            customer_id,
            {%- for channel in ['email', 'sms', 'whatsapp', 'push'] %}
            toUInt8(ifNull(argMaxIf(granted, updated_at, channel = '{{ channel }}'), 0)) as consent_{{ channel }}{{ ',' if not loop.last }}
            {%- endfor %}
        from {{ ref('stg_consents') }}
        where source_customer_id in {{ accounts_of('select customer_id from sample') }}
        group by customer_id, source_customer_id
    )
    group by customer_id
)

select
    customers.customer_id as customer_id,
    {{ day }} as as_of,
    customers.signup_at as signup_at,
    customers.source_channel as source_channel,
    customers.country as country,
    customers.member_tier as member_tier,
    customers.segment as segment,
    if(customers.birth_year is null, 'unknown',
       ['<25', '25-34', '35-44', '45-54', '55+'][least(5, greatest(1, intDiv(toYear({{ day }}) - customers.birth_year - 5, 10)))])
        as age_band,
    if(purchase_figures.customer_id = '', null, purchase_figures.first_order_at) as first_order_at,
    if(purchase_figures.customer_id = '', null, purchase_figures.last_order_at) as last_order_at,
    if(purchase_figures.customer_id = '', null, toInt32(toDate(purchase_figures.first_order_at) - {{ day }}) * -1) as days_since_first_order,
    if(purchase_figures.customer_id = '', null, toInt32(toDate(purchase_figures.last_order_at) - {{ day }}) * -1) as days_since_last_order,
    {%- for n in [30, 60, 90, 180, 365] %}
    purchase_figures.orders_{{ n }}d as orders_{{ n }}d,
    purchase_figures.spend_{{ n }}d as spend_{{ n }}d,
    {%- endfor %}
    purchase_figures.orders_total as orders_total,
    purchase_figures.spend_total as spend_total,
    if(purchase_figures.orders_total = 0, 0, purchase_figures.spend_total / purchase_figures.orders_total) as avg_order_value,
    purchase_figures.max_order_amount_365d as max_order_amount_365d,
    category_figures.category_share as category_share,
    category_figures.top_category as top_category,
    category_figures.top_category_share as top_category_share,
    category_figures.category_orders as category_orders,
    browsing_figures.category_enquiries_90d as category_enquiries_90d,
    state_figures.has_order_awaiting_payment as has_order_awaiting_payment,
    state_figures.has_order_paid_awaiting_shipment as has_order_paid_awaiting_shipment,
    state_figures.has_order_in_transit as has_order_in_transit,
    if(purchase_figures.customer_id = '' or purchase_figures.last_completed_at is null, null,
       toInt32(toDate(purchase_figures.last_completed_at) - {{ day }}) * -1) as days_since_last_completed,
    message_figures.messages_sent_90d as messages_sent_90d,
    message_figures.replies_90d as replies_90d,
    message_figures.broadcast_reply_rate_90d as broadcast_reply_rate_90d,
    message_figures.reply_rate_7d as reply_rate_7d,
    message_figures.replied_within_24h_rate as replied_within_24h_rate,
    message_figures.emails_sent_90d as emails_sent_90d,
    message_figures.email_open_rate_90d as email_open_rate_90d,
    browsing_figures.pricing_page_views_30d as pricing_page_views_30d,
    state_figures.open_complaints as open_complaints,
    state_figures.complaints_resolved_30d as complaints_resolved_30d,
    state_figures.open_urgent_tickets as open_urgent_tickets,
    message_figures.last_campaign_responded as last_campaign_responded,
    consent_figures.consent_email as consent_email,
    consent_figures.consent_sms as consent_sms,
    consent_figures.consent_whatsapp as consent_whatsapp,
    consent_figures.consent_push as consent_push
from {{ ref('stg_customers') }} as customers
left join purchase_figures on purchase_figures.customer_id = customers.customer_id
left join category_figures on category_figures.customer_id = customers.customer_id
left join state_figures on state_figures.customer_id = customers.customer_id
left join browsing_figures on browsing_figures.customer_id = customers.customer_id
left join message_figures on message_figures.customer_id = customers.customer_id
left join consent_figures on consent_figures.customer_id = customers.customer_id
where customers.customer_id in (select customer_id from sample)

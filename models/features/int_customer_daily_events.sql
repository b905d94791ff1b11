{#- One row per customer and event day: browsing and enquiries (messages and emails are timed per
    message in int_customer_messages). -#}
{{ config(order_by='(customer_id, event_day)') }}

with events as (
    select customer_id, event_at, event_type, product_category
    from {{ ref('stg_events') }}
    where event_type in ('page_view', 'pricing_page_view', 'add_to_cart', 'enquiry')
      and event_at >= {{ longest_event_window_start() }}
)

select
    customer_id,
    toDate(event_at) as event_day,
    toUInt32(countIf(event_type = 'page_view')) as page_views,
    toUInt32(countIf(event_type = 'pricing_page_view')) as pricing_page_views,
    toUInt32(countIf(event_type = 'add_to_cart')) as add_to_carts,
    sumMapIf(map(assumeNotNull(product_category), toUInt32(1)),
             event_type = 'enquiry' and product_category is not null) as enquiries_by_category
from events
group by customer_id, event_day

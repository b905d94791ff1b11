{#- One row per message or email we sent to a customer, with when (and whether) the customer
    opened or replied: reply rates and delays need the pairing, not daily counts. -#}
{{ config(order_by='(customer_id, sent_at)') }}

with message_events as (
    select customer_id, message_id, event_type, event_at, campaign_id
    from {{ ref('stg_events') }}
    where event_type in ('message_sent', 'message_reply', 'email_sent', 'email_open')
      and message_id is not null
      and event_at >= {{ longest_event_window_start() }}
)

select
    customer_id,
    assumeNotNull(message_id) as message_id,
    if(countIf(event_type = 'email_sent') > 0, 'email', 'message') as kind,
    minIf(event_at, event_type in ('message_sent', 'email_sent')) as sent_at,
    anyIf(campaign_id, event_type in ('message_sent', 'email_sent')) is not null as is_campaign,
    {#- a reply or open without its send (sent before the data starts) has no sent_at and is left out downstream -#}
    countIf(event_type in ('message_sent', 'email_sent')) > 0 as was_sent,
    if(countIf(event_type in ('message_reply', 'email_open')) > 0,
       minIf(event_at, event_type in ('message_reply', 'email_open')), null) as responded_at
from message_events
group by customer_id, message_id

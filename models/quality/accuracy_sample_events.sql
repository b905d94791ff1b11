{#- The sampled customers' staged events, copied once: accuracy_sample_features reads them three times. -#}
{{ config(order_by='(customer_id, event_at)') }}

select customer_id, event_at, event_type, product_category, campaign_id, message_id
from {{ ref('stg_events') }}
where source_customer_id in {{ accounts_of("select customer_id from " ~ ref('accuracy_sample_customers')) }}

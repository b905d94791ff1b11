{#- Events have no key (two page views in the same second are two facts), so they are checked
    but not deduplicated. -#}
{#- Incremental: partitioned by load day, a run rebuilds from raw only the load days that changed and
    those holding a row whose verdict would now differ (macros/incremental/). -#}
{{ config(materialized='incremental', incremental_strategy='insert_overwrite',
          partition_by='toYYYYMMDD(_loaded_at)', pre_hook="{{ drop_vanished_partitions('toYYYYMMDD(_loaded_at)', source('raw', 'events')) }}",
          order_by='(customer_id, event_at)') }}

with source as (
    select * from {{ source('raw', 'events') }}
    {%- if is_incremental() %}
    where toYYYYMMDD(_loaded_at) in (
        {{ changed_partitions(source('raw', 'events'), 'toYYYYMMDD(_loaded_at)') }}
        union distinct
        {{ partitions_to_recheck('toYYYYMMDD(_loaded_at)', [
            "reject_reason = '' and event_at >= " ~ cutoff(),
            "reject_reason = 'event_at is after as_of' and event_at < " ~ cutoff(),
            "reject_reason = 'unknown customer_id' and " ~ is_known('customer_id', source('raw', 'customers')),
        ]) }}
    )
    {%- endif %}
),

known_customers as (
    select customer_id from {{ source('raw', 'customers') }}
)

select
    *,
    {{ reject_reason([
        ("event_type not in ('page_view', 'pricing_page_view', 'add_to_cart', 'email_sent', 'email_open', 'message_sent', 'message_reply', 'enquiry')", 'unknown event_type'),
        ("event_type in ('message_sent', 'message_reply') and message_id is null", 'message_id is missing'),
        ("event_at >= " ~ cutoff(), 'event_at is after as_of'),
        ("not " ~ is_known('customer_id', 'known_customers'), 'unknown customer_id'),
    ]) }} as reject_reason,
    now64(3) as _staged_at
from source

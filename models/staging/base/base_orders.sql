{#- Incremental: partitioned by the month of ordered_at, a run rebuilds from raw only the months whose raw
    rows changed or hold a row whose verdict would now differ, together with the months of every other
    version of their orders, so "latest version wins" always sees all versions (macros/incremental/). -#}
{{ config(materialized='incremental', incremental_strategy='insert_overwrite',
          partition_by='toYYYYMM(ordered_at)', pre_hook="{{ drop_vanished_partitions('toYYYYMM(ordered_at)', source('raw', 'orders')) }}",
          order_by='(customer_id, order_id)') }}

with source as (
    select * from {{ source('raw', 'orders') }}
    {%- if is_incremental() %}
    where toYYYYMM(ordered_at) in (
        select toYYYYMM(ordered_at) from {{ source('raw', 'orders') }}
        {#- hashed, as is_known: a collision would only rebuild one month more #}
        where cityHash64(order_id) in (
            select cityHash64(order_id) from {{ source('raw', 'orders') }}
            where toYYYYMM(ordered_at) in (
                {{ changed_partitions(source('raw', 'orders'), 'toYYYYMM(ordered_at)') }}
                union distinct
                {{ partitions_to_recheck('toYYYYMM(ordered_at)', [
                    "reject_reason = '' and ordered_at >= " ~ cutoff(),
                    "reject_reason = 'ordered_at is after as_of' and ordered_at < " ~ cutoff(),
                    "reject_reason = 'unknown customer_id' and " ~ is_known('customer_id', source('raw', 'customers')),
                ]) }}
            )
        )
    )
    {%- endif %}
),

known_customers as (
    select customer_id from {{ source('raw', 'customers') }}
),

checked as (
    select
        *,
        {{ reject_reason([
            ("order_id = ''", 'order_id is empty'),
            ("status not in ('pending_payment', 'paid', 'shipped', 'delivered', 'completed', 'cancelled', 'refunded')", 'unknown status'),
            ("amount is null", 'amount is null'),
            ("amount < 0", 'amount is negative'),
            ("ordered_at >= " ~ cutoff(), 'ordered_at is after as_of'),
            ("not " ~ is_known('customer_id', 'known_customers'), 'unknown customer_id'),
        ]) }} as invalid_reason
    from source
)

select
    * except (invalid_reason),
    {#- the latest load wins; within one load, the version furthest along its life -#}
    {{ superseded_reason('invalid_reason', 'order_id',
        '_loaded_at desc, greatest(ordered_at, ifNull(paid_at, ordered_at), ifNull(shipped_at, ordered_at), ifNull(delivered_at, ordered_at), ifNull(completed_at, ordered_at)) desc') }} as reject_reason,
    now64(3) as _staged_at
from checked

{#- Every run's members per tag value as a bitmap of customer_index numbers (UInt32 throughout, so
    bitmaps of different nights and tags combine): audiences and counts are bitmap ANDs and ORs. -#}
{#- One granule per 16 bitmaps, not 8192: a size question then reads and decodes only the granules of the
    tags it names, not every bitmap of the run (3-tag size at 1 M customers: 13 ms to 5 ms, BENCHMARKS.md). -#}
{{ config(order_by='(as_of, run_id, tag_key, tag_value)', partition_by='as_of', settings={'index_granularity': 16}) }}

select
    {{ run_id() }} as run_id,
    tagged.as_of as as_of,
    tagged.tag_key as tag_key,
    tagged.tag_value as tag_value,
    groupBitmapState(customer_index.customer_index) as members,
    count() as member_count
from {{ ref('tag_snapshots') }} as tagged
global inner join {{ ref('customer_index') }} as customer_index on customer_index.customer_id = tagged.customer_id
where tagged.run_id = {{ run_id() }}
group by as_of, tag_key, tag_value

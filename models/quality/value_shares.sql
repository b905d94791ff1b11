{#- Every run's value distribution per tag: the share of all customers in each bucket, untagged
    included (flag: tagged; label: its value; number: decile N of the previous published run's values),
    with the previous published run's share in the same buckets, which the PSI compares
    (tag_quality_figures). One pass over the long table: this run's and the previous run's rows of
    tag_snapshots are read together, counted per tag and value, and everything after works on those
    counts (one array per tag, so the counts are used once and read once). A value_shares table
    written before previous_share existed gets the column (the second pre-hook; dbt-clickhouse's append
    path ignores on_schema_change). -#}
{{ config(materialized='incremental', incremental_strategy='append', partition_by='as_of',
          order_by='(as_of, run_id, tag_key, bucket)',
          pre_hook=["{{ delete_this_run() }}",
                    "{% if is_incremental() %}alter table {{ this }} add column if not exists previous_share Nullable(Float64)"
                    "{% else %}select 1{% endif %}"]) }}
-- depends_on: {{ ref('publish_log') }}

with counts as (
    select tag_key, run_id = {{ run_id() }} as is_current, tag_value, count() as customers
    from {{ ref('tag_snapshots') }}
    where run_id = {{ run_id() }} or ((as_of, run_id) global in {{ previous_published_run() }} and {{ in_lane('tag_key') }})
    group by tag_key, is_current, tag_value
),

per_tag as (
    select tag_key, groupArray((is_current, tag_value, customers)) as items
    from counts
    group by tag_key
),

{#- a labels tag's customers may hold several values, so its untagged share is all customers but its members
    (counted once each: the catalog snapshot's member_count), not but the sum of its value counts; its shares add
    up to more than 1. Read, not recounted from the long table: 3.2-3.5 s to 2.1-2.2 s for this model at 1 M
    customers, the same rows. -#}
labelled as (
    select tag_key, anyIf(member_count, run_id = {{ run_id() }}) as current_members,
           anyIf(member_count, run_id != {{ run_id() }}) as previous_members
    from {{ ref('tag_catalog_snapshots') }}
    where tag_key in {{ labels_tag_keys() }}
      and (run_id = {{ run_id() }} or ((as_of, run_id) global in {{ previous_published_run() }} and {{ in_lane('tag_key') }}))
    group by tag_key
),

totals as (
    select
        (select any(customer_count) from {{ ref('tag_catalog_snapshots') }} where run_id = {{ run_id() }}) as current_customers,
        (select any(customer_count) from {{ ref('tag_catalog_snapshots') }}
         where (as_of, run_id) in {{ previous_published_run() }}) as previous_customers,
        (select count() from {{ previous_published_run() }}) > 0 as has_previous
),

{#- per built tag: its value counts of both runs plus an untagged item per run ('' is never a stored
    value), and for a number tag the previous run's deciles, which bucket both runs alike -#}
tags as (
    select
        catalog.tag_key as tag_key,
        catalog.value_type as value_type,
        arrayFlatten(arrayMap(item -> arrayWithConstant(item.3, toFloat64OrZero(item.2)),
                              arrayFilter(item -> not item.1, per_tag.items))) as previous_values,
        if(catalog.value_type = 'number' and notEmpty(previous_values),
           arrayDistinct(arrayReduce('quantilesExact(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)', previous_values)),
           cast([] as Array(Float64))) as edges,
        arrayConcat(per_tag.items, [
            (1, '', toUInt64(greatest(0, toInt64(totals.current_customers) - toInt64(if(labelled.tag_key != '',
                labelled.current_members, arraySum(arrayMap(item -> item.1 * item.3, per_tag.items))))))),
            (0, '', toUInt64(greatest(0, toInt64(totals.previous_customers) - toInt64(if(labelled.tag_key != '',
                labelled.previous_members, arraySum(arrayMap(item -> (not item.1) * item.3, per_tag.items)))))))
        ]) as all_items,
        totals.current_customers as current_customers,
        totals.previous_customers as previous_customers,
        {#- values of another type (a value_type changed, e.g. label to labels) are not a distribution to compare
            with: the tag's first run of its new type has no previous share, like a first run -#}
        totals.has_previous and previous_catalog.value_type = catalog.value_type as has_previous
    from {{ ref('tag_catalog_snapshots') }} as catalog
    cross join totals
    left join per_tag on per_tag.tag_key = catalog.tag_key
    left join labelled on labelled.tag_key = catalog.tag_key
    left join (
        select tag_key, value_type from {{ ref('tag_catalog_snapshots') }}
        where (as_of, run_id) in {{ previous_published_run() }}
    ) as previous_catalog on previous_catalog.tag_key = catalog.tag_key
    where catalog.run_id = {{ run_id() }} and catalog.status != 'archived'
),

bucketed as (
    select
        tag_key,
        item.1 as is_current,
        multiIf(item.2 = '', 'untagged',
                value_type = 'flag', 'tagged',
                value_type = 'number', concat('decile ', toString(arraySum(arrayMap(edge -> toFloat64OrZero(item.2) > edge, edges)))),
                item.2) as bucket,
        item.3 as customers,
        current_customers, previous_customers, has_previous
    from tags
    array join all_items as item
)

select
    {{ run_id() }} as run_id,
    {{ as_of() }} as as_of,
    tag_key,
    bucket,
    sumIf(customers, is_current) / greatest(any(current_customers), 1) as share,
    if(any(has_previous), sumIf(customers, not is_current) / greatest(any(previous_customers), 1), null) as previous_share
from bucketed
group by tag_key, bucket

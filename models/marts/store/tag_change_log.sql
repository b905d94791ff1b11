{#- Every run's tag changes against the previous published run (the latest of an earlier as_of):
    added, removed or changed, with the old and the new value. On the first run every tag is added. -#}
{#- Read from the two runs' bitmaps, not their long rows: per tag value, who entered (this run and not the last)
    and who left (the last and not this run) are bitmap differences, so a night's cost follows the customers whose
    tags moved, not every customer's tags twice (incremental night at 1 M customers: BENCHMARKS.md). customer_index
    numbers are stable across runs (customer_index.sql), so the two runs' bitmaps compare. -#}
{{ config(order_by='(as_of, run_id, tag_key, customer_id)', partition_by='as_of') }}

with this_run as (
    select tag_key, tag_value, members
    from {{ ref('tag_bitmap_snapshots') }}
    where run_id = {{ run_id() }}
),

last_run as (
    select tag_key, tag_value, members
    from {{ ref('tag_bitmap_snapshots') }}
    where (as_of, run_id) in {{ previous_published_run() }} and {{ in_lane('tag_key') }}
),

{#- a value missing on one side joins to an empty bitmap (the column type's default) -#}
moved as (
    select
        tag_key,
        tag_value,
        bitmapAndnot(this_run.members, last_run.members) as entered,
        bitmapAndnot(last_run.members, this_run.members) as departed
    from this_run
    full outer join last_run using (tag_key, tag_value)
),

{#- A customer has one value per tag in a run (tag_snapshots' one_value_per_customer_in_run): one who entered a
    value and departed another of the same tag changed. Those are found per tag as bitmaps (entered any value and
    departed any), so only they are paired row by row; everyone else is added or removed as expanded. A first night
    (nothing departed) pairs nobody: at 1 M customers its 15.5 M rows had all been grouped to pair none (BENCHMARKS.md).
    A labels tag has several values per customer, each its own membership: a value is added or removed, never
    changed, so it has no row here and joins to an empty bitmap. -#}
switched as (
    select tag_key, bitmapAnd(groupBitmapOrState(entered), groupBitmapOrState(departed)) as customers
    from moved
    where tag_key not in {{ labels_tag_keys() }}
    group by tag_key
),

split as (
    select
        moved.tag_key as tag_key,
        moved.tag_value as tag_value,
        bitmapAndnot(moved.entered, switched.customers) as added,
        bitmapAndnot(moved.departed, switched.customers) as removed,
        bitmapAnd(moved.entered, switched.customers) as switched_in,
        bitmapAnd(moved.departed, switched.customers) as switched_out
    from moved
    left join switched on switched.tag_key = moved.tag_key
),

{#- '' (never a stored value) means absent. The ARRAY JOIN clause, not the arrayJoin() function: the clause cuts its
    output into blocks of max_block_size rows, the function expands a whole block of bitmaps at once, so a first night
    (every membership added) held all its rows in memory (BENCHMARKS.md). -#}
moves as (
    select tag_key, customer_index, '' as old_value, tag_value as new_value
    from split array join bitmapToArray(added) as customer_index
    union all
    select tag_key, customer_index, tag_value as old_value, '' as new_value
    from split array join bitmapToArray(removed) as customer_index
    union all
    select tag_key, customer_index, max(old_value) as old_value, max(new_value) as new_value
    from (
        select tag_key, customer_index, '' as old_value, tag_value as new_value
        from split array join bitmapToArray(switched_in) as customer_index
        union all
        select tag_key, customer_index, tag_value as old_value, '' as new_value
        from split array join bitmapToArray(switched_out) as customer_index
    )
    group by tag_key, customer_index
)

select
    {{ run_id() }} as run_id,
    {{ as_of() }} as as_of,
    customer_index.customer_id as customer_id,
    moves.tag_key as tag_key,
    multiIf(old_value = '', 'added', new_value = '', 'removed', 'changed') as change,
    old_value,
    new_value
from moves
inner join {{ ref('customer_index') }} as customer_index on customer_index.customer_index = moves.customer_index

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

moves as (
    select tag_key, arrayJoin(bitmapToArray(entered)) as customer_index, tag_value as moved_value, tag_value as new_value,
           '' as old_value
    from moved
    union all
    select tag_key, arrayJoin(bitmapToArray(departed)) as customer_index, tag_value as moved_value, '' as new_value,
           tag_value as old_value
    from moved
),

{#- a customer has one value per tag in a run (tag_snapshots' one_value_per_customer_in_run), so a value that
    entered and one that departed the same tag is a change; '' (never a stored value) means absent. A labels tag
    has several values per customer, each its own membership: a value is added or removed, never changed. -#}
paired as (
    select tag_key, customer_index, max(new_value) as new_value, max(old_value) as old_value
    from moves
    group by tag_key, customer_index, if(tag_key in {{ labels_tag_keys() }}, moved_value, '')
)

select
    {{ run_id() }} as run_id,
    {{ as_of() }} as as_of,
    customer_index.customer_id as customer_id,
    paired.tag_key as tag_key,
    multiIf(old_value = '', 'added', new_value = '', 'removed', 'changed') as change,
    old_value,
    new_value
from paired
inner join {{ ref('customer_index') }} as customer_index on customer_index.customer_index = paired.customer_index

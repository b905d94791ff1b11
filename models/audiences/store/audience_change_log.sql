{#- Every run's audience changes against the previous published run (the latest of an earlier
    as_of), as bitmaps: who entered and who left each live audience. On an audience's first run
    every member entered. -#}
{{ config(order_by='(as_of, run_id, audience_key)', partition_by='as_of') }}

with current_run as (
    select audience_key, members
    from {{ ref('audience_bitmap_snapshots') }}
    where run_id = {{ run_id() }}
),

previous_run as (
    select audience_key, members
    from {{ ref('audience_bitmap_snapshots') }}
    where (as_of, run_id) in {{ previous_published_run() }}
),

{#- an audience missing from the previous run joins an empty bitmap -#}
paired as (
    select
        current_run.audience_key as audience_key,
        bitmapAndnot(current_run.members, previous_run.members) as entered,
        bitmapAndnot(previous_run.members, current_run.members) as left
    from current_run
    left join previous_run on previous_run.audience_key = current_run.audience_key
)

select
    {{ run_id() }} as run_id,
    {{ as_of() }} as as_of,
    audience_key,
    entered,
    left,
    bitmapCardinality(entered) as entered_count,
    bitmapCardinality(left) as left_count
from paired

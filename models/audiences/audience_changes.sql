{#- Per published as_of, who entered or left each audience against the previous published day.
    An audience's first published as_of compares with nothing, so every member entered: `is_baseline`
    marks those rows, and a trigger skips them. -#}
with published_changes as (
    select * from {{ ref('audience_change_log') }}
    where (as_of, run_id) in {{ published_run_per_as_of() }}
),

first_published as (
    select audience_key, min(as_of) as first_as_of from published_changes group by audience_key
)

select changes.as_of as as_of, changes.audience_key as audience_key, customer_index.customer_id as customer_id,
       changes.change as change, toUInt8(changes.as_of <= first_published.first_as_of) as is_baseline
from (
    select as_of, audience_key, 'entered' as change, arrayJoin(bitmapToArray(entered)) as customer_index
    from published_changes
    union all
    select as_of, audience_key, 'left' as change, arrayJoin(bitmapToArray(left)) as customer_index
    from published_changes
) as changes
inner join first_published on first_published.audience_key = changes.audience_key
inner join {{ ref('customer_index') }} as customer_index on customer_index.customer_index = changes.customer_index

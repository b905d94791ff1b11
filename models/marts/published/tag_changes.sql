{#- Who gained, lost or changed which tag on each published as_of, against the day before it.
    A tag's first published as_of compares with nothing, so every member shows as added: `is_baseline`
    marks those rows, and a trigger ("just became a VIP") skips them. -#}
with first_published as (
    select tag_key, min(as_of) as first_as_of
    from {{ ref('tag_catalog_snapshots') }}
    where (as_of, run_id) in {{ published_run_per_as_of() }}
    group by tag_key
)

select changes.as_of as as_of, changes.customer_id as customer_id, changes.tag_key as tag_key,
       changes.change as change, changes.old_value as old_value, changes.new_value as new_value,
       toUInt8(changes.as_of <= first_published.first_as_of) as is_baseline
from {{ ref('tag_change_log') }} as changes
left join first_published on first_published.tag_key = changes.tag_key  -- a tag never published: not a baseline
where (changes.as_of, changes.run_id) in {{ published_run_per_as_of() }}

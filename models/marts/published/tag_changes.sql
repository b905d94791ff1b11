{#- Who gained, lost or changed which tag on each published as_of, against the day before it.
    On a tag's first published as_of (its run's first_built_on) it compares with nothing, so every member shows
    as added: `is_baseline` marks those rows, and a trigger ("just became a VIP") skips them. -#}
with published_catalog as (
    select run_id, tag_key, first_built_on
    from {{ ref('tag_catalog_snapshots') }}
    where (as_of, run_id) in {{ published_run_per_as_of() }}
)

select changes.as_of as as_of, changes.customer_id as customer_id, changes.tag_key as tag_key,
       changes.change as change, changes.old_value as old_value, changes.new_value as new_value,
       toUInt8(published_catalog.first_built_on = changes.as_of) as is_baseline
from {{ ref('tag_change_log') }} as changes
-- a tag the run's catalog no longer has (its members removed) is no baseline: no row, first_built_on 1970-01-01
left join published_catalog on published_catalog.run_id = changes.run_id and published_catalog.tag_key = changes.tag_key
where (changes.as_of, changes.run_id) in {{ published_run_per_as_of() }}

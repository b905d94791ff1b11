{#- The size of every audience on every published as_of (one run per day), with who entered and left. -#}
select sizes.as_of as as_of, sizes.run_id as run_id, sizes.audience_key as audience_key, sizes.member_count as member_count,
       changes.entered_count as entered_count, changes.left_count as left_count
from {{ ref('audience_bitmap_snapshots') }} as sizes
inner join {{ ref('audience_change_log') }} as changes
    on changes.run_id = sizes.run_id and changes.audience_key = sizes.audience_key
where (sizes.as_of, sizes.run_id) in {{ published_run_per_as_of() }}

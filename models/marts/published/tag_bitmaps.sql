{#- Members per tag value of the current published run, as bitmaps over customer_index; the manual tags'
    members as they are now (manual_tag_members), so an audience with a manual tag counts a `tags tag add` at once. -#}
select as_of, tag_key, tag_value, members, member_count
from {{ ref('tag_bitmap_snapshots') }}
where (as_of, run_id) in {{ current_published_run() }} and tag_key not in {{ live_manual_tag_keys() }}
union all
select any(as_of) as as_of, tag_key, '1' as tag_value, groupBitmapState(customer_index) as members, count() as member_count
from {{ ref('manual_tag_members') }}
group by tag_key

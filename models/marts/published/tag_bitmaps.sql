{#- Members per tag value of the current published run, as bitmaps over customer_index. -#}
select as_of, tag_key, tag_value, members, member_count
from {{ ref('tag_bitmap_snapshots') }}
where (as_of, run_id) in {{ current_published_run() }}

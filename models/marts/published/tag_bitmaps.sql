{#- Members per tag value of the current published run, as bitmaps over customer_index; the intraday lane's tags
    from its latest run when it ran after the night (macros/publish/published_runs.sql). -#}
select as_of, tag_key, tag_value, members, member_count
from {{ ref('tag_bitmap_snapshots') }}
where (as_of, run_id) in {{ current_published_run() }} and tag_key not in {{ current_intraday_tag_keys() }}
union all
select as_of, tag_key, tag_value, members, member_count
from {{ ref('tag_bitmap_snapshots') }}
where (as_of, run_id) in {{ current_intraday_run() }}

{#- Members per tag value of the current published run, as bitmaps over customer_index; the intraday lane's tags
    from its latest run when that is the latest switch (macros/publish/published_runs.sql). -#}
select as_of, tag_key, tag_value, members, member_count
from {{ ref('tag_bitmap_snapshots') }}
where (as_of, run_id, {{ is_intraday_tag('tag_key') }}) in {{ shown_tag_runs() }}

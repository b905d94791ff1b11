{#- Members per tag value of the current published run, as bitmaps over customer_index; each tag from the run
    it is read from now: the night, or a run that refines it (macros/publish/published_runs.sql). -#}
select as_of, tag_key, tag_value, members, member_count
from {{ ref('tag_bitmap_snapshots') }}
where (as_of, run_id, tag_key) in {{ shown_tag_runs() }}

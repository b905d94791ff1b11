{#- The long table BI reads: one row per customer and tag of the current published run, each tag from the
    run it is read from now: the night, or a run that refines it (macros/publish/published_runs.sql); the manual tags'
    members as they are now (manual_tag_members: `tags tag add` shows within seconds). -#}
select as_of, customer_id, tag_key, tag_value
from {{ ref('tag_snapshots') }}
where (as_of, run_id, tag_key) global in {{ shown_tag_runs() }}
  and tag_key global not in {{ live_manual_tag_keys() }}
union all
select as_of, customer_id, tag_key, '1' as tag_value
from {{ ref('manual_tag_members') }}

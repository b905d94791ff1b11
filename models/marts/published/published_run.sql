{#- The run BI reads now, as one row: the same rule every view in `tags` selects by (macros/publish/published_runs.sql),
    so Python and BI ask it here instead of writing the rule again. -#}
select log.as_of as as_of, log.run_id as run_id, log.published_at as published_at,
    {#- a run published before cutoffs were recorded was evaluated at the end of its day -#}
    if(log.cutoff = toDateTime(0), toDateTime(log.as_of + 1), log.cutoff) as cutoff
from {{ ref('publish_log') }} as log
where (log.as_of, log.run_id) in {{ current_published_run() }}

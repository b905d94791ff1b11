{#- What BI reads now, one row per run it reads from: the nightly run (every tag no later run refines) and each
    published run that refines it, the intraday lane's latest and the one that built new catalog rows (lane
    new_tags), with the tags read from it and the instant it was evaluated at: how fresh a tag is. -#}
select 'nightly' as lane, as_of, run_id, published_at, cutoff, cast([] as Array(String)) as tag_keys
from {{ ref('published_run') }}
union all
select log.lane as lane, log.as_of as as_of, log.run_id as run_id, log.published_at as published_at,
       log.cutoff as cutoff, shown.tag_keys as tag_keys
from {{ ref('publish_log') }} as log
inner join (select as_of, run_id, arraySort(groupArray(tag_key)) as tag_keys from {{ shown_tag_runs() }} group by as_of, run_id)
    as shown on shown.as_of = log.as_of and shown.run_id = log.run_id
where log.refines_run_id != ''

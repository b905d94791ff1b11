{#- What each lane shows now, one row per lane: the nightly run (every tag) and, once the intraday lane ran after
    it, the intraday run (its tags in tag_keys), each with the instant it was evaluated at: how fresh a tag is. -#}
select 'nightly' as lane, as_of, run_id, published_at, cutoff, cast([] as Array(String)) as tag_keys
from {{ ref('published_run') }}
union all
select 'intraday' as lane, log.as_of as as_of, log.run_id as run_id, log.published_at as published_at,
       log.cutoff as cutoff, log.tag_keys as tag_keys
from {{ ref('publish_log') }} as log
where (log.as_of, log.run_id) in {{ current_intraday_run() }}

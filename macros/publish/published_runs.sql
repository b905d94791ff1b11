{#- Which runs BI sees. A run is published by one row in tag_store.publish_log, written only after
    its checks passed. The views in `tags` select store rows through these macros, so every
    published table switches to a new run with that one insert, and an unpublished or failed run is
    never visible. Each returns a subquery of (as_of, run_id) pairs for `(as_of, run_id) in ...`
    (`global in` over the table sharded on a cluster, macros/cluster/cluster.sql), which also lets ClickHouse
    skip the other as_of partitions.
    A run counts from its published_at, a whole second after its row was written, compared with
    the start of the query (initialQueryStartTime(), the same in every view and subquery of one
    query): each view reads publish_log for itself, so by the row's arrival alone a query joining
    two views could see the new run in one and the old in the other. -#}

{% macro _published() -%}
    published_at <= initialQueryStartTime()
{%- endmacro %}

{#- The latest switch: the latest published row of the publish log that is not a backfill (an as_of earlier
    than the current one joins the history without replacing tonight's tags, unless published with
    `--publish`). A nightly run's row switches every tag to that run. A row of a lane that refines the night (the
    intraday lane, orchestration/dagster/intraday.py; new catalog rows, orchestration/dagster/new_tags.py) names
    the night it refines (refines_run_id) and switches only its tag_keys (shown_tag_runs()). -#}
{% macro _latest_switch() -%}
    (select as_of, run_id, refines_run_id from {{ ref('publish_log') }} where {{ _published() }} and backfill = 0
     order by published_at desc limit 1)
{%- endmacro %}

{#- The night BI reads now: the latest switch's run, or the night it refines. -#}
{% macro current_published_run() -%}
    (select as_of, if(refines_run_id = '', run_id, refines_run_id) as run_id from {{ _latest_switch() }})
{%- endmacro %}

{#- The run each tag is read from now, as (as_of, run_id, tag_key) for `(as_of, run_id, tag_key) in
    shown_tag_runs()`: of the current night and the published runs that refine it, the latest that built the tag.
    So the intraday lane's tags come from its latest run, a new catalog row's from the run that built it, every
    other tag from the night; the next night takes over all of them. A nightly row lists the tags it built in
    tag_keys; one published before they were listed (empty) stands for every tag this project builds.
    One read of the publish log: the night of the latest switch is a window over the same rows (reading the log
    a second time for it, as an IN subquery, cost 4 ms of a 3-tag audience size at 1 M customers, BENCHMARKS.md). -#}
{% macro shown_tag_runs() -%}
    {%- set every_tag = built_tag_keys() -%}
    (select as_of, argMax(run_id, published_at) as run_id, tag_key
     from (select as_of, run_id, published_at,
                  arrayJoin(if(empty(tag_keys) and refines_run_id = '', {{ every_tag if every_tag else "cast([] as Array(String))" }},
                               tag_keys)) as tag_key,
                  (as_of, if(refines_run_id = '', run_id, refines_run_id)) as night,
                  argMax((as_of, if(refines_run_id = '', run_id, refines_run_id)), published_at) over () as current_night
           from {{ ref('publish_log') }}
           where {{ _published() }} and backfill = 0)
     where night = current_night
     group by as_of, tag_key)
{%- endmacro %}

{#- The intraday lane's tags of each customer who has any, from the runs they are read from now: (customer_id,
    lane_tags), what the profile joins for the lane's columns (`global in`: tag_snapshots may be sharded,
    macros/cluster/cluster.sql). -#}
{% macro lane_memberships() -%}
    (select customer_id, groupArray(tag_key) as lane_tags from {{ ref('tag_snapshots') }}
     where (as_of, run_id, tag_key) global in {{ shown_tag_runs() }} and {{ is_intraday_tag('tag_key') }}
     group by customer_id)
{%- endmacro %}

{#- A nightly run: one that refines no other ('' on rows written before lanes existed). -#}
{% macro _nightly() -%}
    refines_run_id = ''
{%- endmacro %}

{#- One run per as_of, the latest published nightly run for it: the history BI sees. -#}
{% macro published_run_per_as_of() -%}
    (select as_of, argMax(run_id, published_at) from {{ ref('publish_log') }} where {{ _published() }} and {{ _nightly() }}
     group by as_of)
{%- endmacro %}

{#- The run this one is compared with: the latest published run of an earlier as_of. Re-running an
    as_of compares with the same run again, so a re-run gives the same changes. -#}
{% macro previous_published_run() -%}
    (select as_of, run_id from {{ ref('publish_log') }} where as_of < {{ as_of() }} and {{ _published() }} and {{ _nightly() }}
     order by as_of desc, published_at desc limit 1)
{%- endmacro %}

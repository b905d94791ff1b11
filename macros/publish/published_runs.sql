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
    `--publish`). A nightly run's row switches every tag to that run; a row of the intraday lane
    (orchestration/dagster/intraday.py) switches the lane's tags to its run and names the night it refines
    (refines_run_id), which every other tag stays on. Every view reads this one row, so the lanes switch
    together, and a new night takes over from the lane until the lane's next run. -#}
{% macro _latest_switch() -%}
    (select as_of, run_id, lane, refines_run_id from {{ ref('publish_log') }} where {{ _published() }} and backfill = 0
     order by published_at desc limit 1)
{%- endmacro %}

{#- The night BI reads now: the latest switch's run, or the night an intraday run refines. -#}
{% macro current_published_run() -%}
    (select as_of, if(lane = 'intraday', refines_run_id, run_id) as run_id from {{ _latest_switch() }})
{%- endmacro %}

{#- The run of the latest switch itself: the intraday run when it is the latest, else the night. The intraday
    lane's tags are read from it. -#}
{% macro latest_run() -%}
    (select as_of, run_id from {{ _latest_switch() }})
{%- endmacro %}

{#- The intraday lane's tags of each customer who has any, from latest_run(): (customer_id, lane_tags), what the
    profile joins for the lane's columns (`global in`: tag_snapshots may be sharded, macros/cluster/cluster.sql). -#}
{% macro lane_memberships() -%}
    (select customer_id, groupArray(tag_key) as lane_tags from {{ ref('tag_snapshots') }}
     where (as_of, run_id) global in {{ latest_run() }} and {{ is_intraday_tag('tag_key') }}
     group by customer_id)
{%- endmacro %}

{#- The intraday run BI reads now, when the latest switch is one (else none). -#}
{% macro current_intraday_run() -%}
    (select as_of, run_id from {{ _latest_switch() }} where lane = 'intraday')
{%- endmacro %}

{#- The run each tag is read from now, as (as_of, run_id, whether the tag is in the intraday lane) for
    `(as_of, run_id, is_intraday_tag('tag_key')) in shown_tag_runs()`: the lane's tags from latest_run(),
    every other tag from the night. One set: a second one (the lane's tags read from the log) made a 3-tag
    audience size 4.6 ms slower at 1 M customers, a quarter of its 20 ms budget (BENCHMARKS.md). -#}
{% macro shown_tag_runs() -%}
    (select as_of, shown.1 as run_id, shown.2 as in_intraday_lane
     from (select as_of, arrayJoin([(if(lane = 'intraday', refines_run_id, run_id), 0), (run_id, 1)]) as shown
           from {{ _latest_switch() }}))
{%- endmacro %}

{#- A run of the nightly lane: every run but the intraday lane's ('' on rows written before lanes existed). -#}
{% macro _nightly() -%}
    lane != 'intraday'
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

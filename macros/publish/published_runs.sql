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

{#- The run BI reads now: the latest published run that is not a backfill (an as_of earlier than
    the current one joins the history without replacing tonight's tags, unless published with
    `--publish`). -#}
{% macro current_published_run() -%}
    (select as_of, run_id from {{ ref('publish_log') }} where {{ _published() }} and backfill = 0 and {{ _nightly() }}
     order by published_at desc limit 1)
{%- endmacro %}

{#- A run of the nightly lane: every run but the intraday lane's ('' on rows written before lanes existed). -#}
{% macro _nightly() -%}
    lane != 'intraday'
{%- endmacro %}

{#- The intraday lane's run BI reads now (orchestration/dagster/intraday.py): the latest published intraday run,
    if it was published after the current nightly run, whose as_of it refines (a new night replaces what the lane
    refreshed, until the lane's next run). Its tags (current_intraday_tag_keys) show its rows instead of the
    nightly run's; the history (tag_history, tag_changes) stays one run per day, the nightly one. -#}
{% macro current_intraday_run() -%}
    (select as_of, run_id from {{ ref('publish_log') }} where {{ _published() }} and lane = 'intraday'
       and published_at > (select max(published_at) from {{ ref('publish_log') }}
                           where {{ _published() }} and backfill = 0 and {{ _nightly() }})
     order by published_at desc limit 1)
{%- endmacro %}

{#- The tag keys the current intraday run shows (none when there is none). -#}
{% macro current_intraday_tag_keys() -%}
    (select arrayJoin(tag_keys) from {{ ref('publish_log') }} where (as_of, run_id) in {{ current_intraday_run() }})
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

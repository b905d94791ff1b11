{#- Every run's catalog with what the run built: member count, coverage (share of all customers)
    and the first as_of the tag was published. The data behind a tag list screen. A tag the run held
    back (var held_tags, macros/tags/tag_rows.sql) is `stale`: its members are those of values_as_of. -#}
{{ config(order_by='(as_of, run_id, tag_key)', partition_by='as_of', on_schema_change='append_new_columns',
          pre_hook="{{ append_new_columns() }}") }}
{%- set held = run_var('held_tags', []) %}
-- depends_on: {{ ref('publish_log') }}

{#- a labels tag has a row per value: its members are counted once each (only its rows are hashed) #}
with members as (
    select tag_key, {{ tag_customers() }} as member_count
    from {{ ref('tag_snapshots') }}
    where run_id = {{ run_id() }}
    group by tag_key
),

customers as (
    select count() as customer_count from {{ ref('customer_features') }}
),

{% if is_incremental() -%}
first_published as (
    select tag_key, min(as_of) as first_built_on
    from {{ this }}
    where (as_of, run_id) in {{ published_run_per_as_of() }}
    group by tag_key
),

shown_now as (
    select tag_key, ifNull(values_as_of, as_of) as values_as_of
    from {{ this }}
    where (as_of, run_id) in {{ current_published_run() }}
)
{%- else -%}
first_published as (
    select '' as tag_key, toDate('1970-01-01') as first_built_on where 0
),

shown_now as (
    select '' as tag_key, toDate('1970-01-01') as values_as_of where 0
)
{%- endif %}

select
    {{ run_id() }} as run_id,
    {{ as_of() }} as as_of,
    catalog.tag_key as tag_key,
    catalog.tag_name as tag_name,
    catalog.category as category,
    catalog.method as method,
    catalog.value_type as value_type,
    catalog.rule as rule,
    catalog.params as params,
    catalog.owner as owner,
    catalog.description as description,
    catalog.status as status,
    catalog.coverage_min as coverage_min,
    catalog.coverage_max as coverage_max,
    catalog.blocking_checks as blocking_checks,
    catalog.when_blocked as when_blocked,
    toUInt8({% if held %}catalog.tag_key in ('{{ held | join("', '") }}'){% else %}0{% endif %}) as stale,
    if(stale, if(shown_now.tag_key = '', cast(null as Nullable(Date)), shown_now.values_as_of),
       toNullable({{ as_of() }})) as values_as_of,
    catalog.updated_by as updated_by,
    catalog.updated_at as updated_at,
    ifNull(members.member_count, 0) as member_count,
    (select customer_count from customers) as customer_count,
    ifNull(members.member_count / nullIf((select customer_count from customers), 0), 0) as coverage,
    if(first_published.tag_key = '', {{ as_of() }}, least(first_published.first_built_on, {{ as_of() }})) as first_built_on,
    {#- new columns go last: the table is filled by position, and a warehouse built before them gets them appended
        at the end (append_new_columns) -#}
    catalog.evaluated_at as evaluated_at,
    catalog.lane as lane
from {{ ref('tag_catalog') }} as catalog
left join members on members.tag_key = catalog.tag_key
left join first_published on first_published.tag_key = catalog.tag_key
left join shown_now on shown_now.tag_key = catalog.tag_key
-- an intraday run's catalog is its lane's tags (macros/tags/lane.sql)
where {{ in_lane('catalog.tag_key') }}

{#- Every run's quality figures, one row per built tag: what the quality checks (generic tests in
    macros/tests/quality/, one per tag and check, generated from the catalogs) judge.
    No pass over the long table here: the value distributions come from value_shares (which makes
    the run's one pass over tag_snapshots), members and coverage from tag_catalog_snapshots, changes
    from tag_change_log, accuracy from quality.accuracy_mismatches. -#}
{{ config(materialized='incremental', incremental_strategy='append', partition_by='as_of',
          order_by='(as_of, run_id, tag_key)', pre_hook="{{ delete_this_run() }}") }}
-- depends_on: {{ ref('publish_log') }}, {{ ref('tag_catalog') }}, {{ ref('accuracy_sample_features') }}
{%- set checked = accuracy_checked_tags() | map(attribute='tag_key') | list %}

with catalog as (
    select tag_key, method, value_type, member_count, customer_count, coverage, coverage_min, coverage_max
    from {{ ref('tag_catalog_snapshots') }}
    where run_id = {{ run_id() }} and status != 'archived'
),

{#- PSI over the buckets of both runs, a share of 0 floored at 1e-4 (it would make the PSI infinite) -#}
drift as (
    select tag_key,
           sum((greatest(share, 1e-4) - greatest(previous_share, 1e-4))
               * ln(greatest(share, 1e-4) / greatest(previous_share, 1e-4))) as psi
    from {{ ref('value_shares') }}
    where run_id = {{ run_id() }} and previous_share is not null
    group by tag_key
),

{#- a labels tag has a change row per value: its customers are counted once each #}
changes as (
    select tag_key, {{ tag_customers() }} as changed, {{ tag_customers("change = 'removed'") }} as removed
    from {{ ref('tag_change_log') }}
    where run_id = {{ run_id() }}
    group by tag_key
),

mismatched as (
    select tag_key, count() as mismatches,
           groupArray(10)(concat(customer_id, ': built ', if(built_value = '', '(none)', built_value),
                                 ', recomputed ', if(recomputed_value = '', '(none)', recomputed_value))) as examples
    from (select * from {{ ref('accuracy_mismatches') }} where run_id = {{ run_id() }} order by tag_key, customer_id)
    group by tag_key
)

select
    {{ run_id() }} as run_id,
    {{ as_of() }} as as_of,
    catalog.tag_key as tag_key,
    catalog.member_count as members,
    ifNull(catalog.customer_count, 0) as customers,
    catalog.coverage as coverage,
    catalog.coverage_min as coverage_min,
    catalog.coverage_max as coverage_max,
    toUInt8(ifNull((select count() from {{ previous_published_run() }}), 0) > 0) as has_previous,
    if(has_previous, drift.psi, null) as psi,
    ifNull(changes.changed, 0) as changed,
    {#- the tag's customers in either run: this run's members and those it lost -#}
    if(has_previous, if(catalog.member_count + ifNull(changes.removed, 0) = 0, 0,
                        ifNull(changes.changed, 0) / (catalog.member_count + ifNull(changes.removed, 0))), null)
        as changed_share,
    {%- if checked %}
    if(catalog.tag_key in ('{{ checked | join("', '") }}'), (select count() from {{ ref('accuracy_sample_features') }}), null)
        as sampled,
    if(catalog.tag_key in ('{{ checked | join("', '") }}'), ifNull(mismatched.mismatches, 0), null) as mismatches,
    {%- else %}
    cast(null as Nullable(UInt64)) as sampled,
    cast(null as Nullable(UInt64)) as mismatches,
    {%- endif %}
    ifNull(mismatched.examples, []) as mismatch_examples
from catalog
left join drift on drift.tag_key = catalog.tag_key
left join changes on changes.tag_key = catalog.tag_key
left join mismatched on mismatched.tag_key = catalog.tag_key

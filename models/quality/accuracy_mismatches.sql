{#- Where the run's tags and the independent recomputation disagree, per sampled customer and tag:
    the accuracy check fails on any row here and names the customers and tags. -#}
-- depends_on: {{ ref('tag_catalog') }}
{{ config(order_by='(tag_key, customer_id)') }}
{%- set checked = accuracy_checked_tags() | map(attribute='tag_key') | list %}

with built as (
    select customer_id, tag_key, tag_value
    from {{ ref('tag_snapshots') }}
    where run_id = {{ run_id() }}
      and customer_id global in (select customer_id from {{ ref('accuracy_sample_features') }})
      and tag_key in ({{ "'" ~ (checked | join("', '")) ~ "'" if checked else "''" }})
),

recomputed as (
    select customer_id, tag_key, tag_value from {{ ref('accuracy_sample_tags') }}
),

{#- one pass: per customer and tag, the value each side has ('' = untagged; a labels tag's values sorted and
    joined by ', ') -#}
paired as (
    select customer_id, tag_key,
           arrayStringConcat(arraySort(groupArrayIf(tag_value, side = 'built')), ', ') as built_value,
           arrayStringConcat(arraySort(groupArrayIf(tag_value, side = 'recomputed')), ', ') as recomputed_value
    from (
        select *, 'built' as side from built
        union all
        select *, 'recomputed' as side from recomputed
    )
    group by customer_id, tag_key
)

select {{ run_id() }} as run_id, {{ as_of() }} as as_of, customer_id, tag_key, built_value, recomputed_value
from paired
where built_value != recomputed_value

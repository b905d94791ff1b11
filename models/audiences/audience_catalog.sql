{#- Every audience of seeds/audiences.csv, as the current published run read it, with its state: live ones
    with their size, expired ones (expires_on before the run's as_of) listed with the last day they
    were built. -#}
with current_run as (
    select as_of, run_id from {{ current_published_run() }}
),

last_built as (
    select audience_key, max(as_of) as last_built_as_of
    from {{ ref('audience_bitmap_snapshots') }}
    where (as_of, run_id) in {{ published_run_per_as_of() }}
    group by audience_key
),

current_sizes as (
    select audience_key, member_count
    from {{ ref('audience_bitmap_snapshots') }}
    where (as_of, run_id) in (select as_of, run_id from current_run)
)

select
    audiences.audience_key as audience_key,
    audiences.audience_name as audience_name,
    audiences.expression as expression,
    audiences.owner as owner,
    audiences.purpose as purpose,
    audiences.channel as channel,
    audiences.priority as priority,
    audiences.expires_on as expires_on,
    if(audiences.expires_on >= (select as_of from current_run), 'live', 'expired') as status,
    current_sizes.member_count as member_count,
    if(last_built.audience_key = '', null, last_built.last_built_as_of) as last_built_as_of
from (
    select * from {{ ref('audience_catalog_snapshots') }}
    where (as_of, run_id) in (select as_of, run_id from current_run)
) as audiences
left join current_sizes on current_sizes.audience_key = audiences.audience_key
left join last_built on last_built.audience_key = audiences.audience_key

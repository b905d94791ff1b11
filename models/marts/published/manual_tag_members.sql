{#- Members of the manual tags now, read from raw.manual_tag_assignments when queried: `tags tag add|remove`
    shows in tags.customer_tags and tags.customer_profile within seconds, without a refresh.
    The nightly rule (macros/tags/manual_tag.sql) on the rows it would accept: an add or remove of a manual tag
    the published run built, for a customer of the customer index (an account's rows count for its stitched
    customer); per customer and tag the latest by
    (assigned_at, _loaded_at, action) wins. Those views show these rows in place of the published run's rows of
    the manual tags, so the night that folds them in counts nobody twice. -#}
with current_run as {{ current_published_run() }}

select
    (select as_of from current_run) as as_of,
    latest.customer_id as customer_id,
    latest.tag_key as tag_key,
    indexed.customer_index as customer_index
-- the members (few) are the join's build side: the index is read against them, not hashed whole
from {{ ref('customer_index') }} as indexed
inner join (
    select tag_key, {{ stitched_customer_id('assigned.customer_id', 'merged') }} as customer_id
    from {{ source('raw', 'manual_tag_assignments') }} as assigned
    left join {{ merged_accounts() }} as merged on merged.customer_id = assigned.customer_id
    where tag_key in {{ live_manual_tag_keys() }} and action in ('add', 'remove')
    group by tag_key, customer_id
    having argMax(action, (assigned_at, _loaded_at, action)) = 'add'
) as latest on latest.customer_id = indexed.customer_id

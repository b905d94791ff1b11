{#- Members of the manual tags now, read from raw.manual_tag_assignments when queried: `tags tag add|remove`
    shows in tags.customer_tags, tags.customer_profile and tags.tag_bitmaps within seconds, without a refresh.
    The nightly rule (macros/tags/manual_tag.sql) on the rows it would accept: an add or remove of a manual tag
    the published run built, for a customer of the customer index; per customer and tag the latest by
    (assigned_at, _loaded_at, action) wins. Those views show these rows in place of the published run's rows of
    the manual tags, so the night that folds them in counts nobody twice. The index is looked up by its key for
    these customers only: a join with all of it is a scan of every customer in each BI query of the bitmaps. -#}
with current_run as {{ current_published_run() }},

latest as (
    select tag_key, customer_id
    from {{ source('raw', 'manual_tag_assignments') }}
    where tag_key in {{ live_manual_tag_keys() }} and action in ('add', 'remove')
    group by tag_key, customer_id
    having argMax(action, (assigned_at, _loaded_at, action)) = 'add'
)

select
    (select as_of from current_run) as as_of,
    latest.customer_id as customer_id,
    latest.tag_key as tag_key,
    indexed.customer_index as customer_index
from latest
inner join (
    select customer_id, customer_index from {{ ref('customer_index') }}
    where customer_id in (select customer_id from latest)
) as indexed on indexed.customer_id = latest.customer_id

{#- Every run's long table of tags, versioned by run_id; tags.customer_tags and tags.tag_history
    are views over the published runs. Partitioned by as_of, so retention drops whole days. On a
    cluster it is sharded by customer (macros/cluster/cluster.sql). An intraday or new_tags run stores its
    lane's tags alone (macros/tags/lane.sql). -#}
{{ config(order_by='(as_of, run_id, tag_key, tag_value, customer_id)', partition_by='as_of',
          post_hook="{{ customer_lookup_index() }}", **sharded_by_customer()) }}

select {{ run_id() }} as run_id, as_of, tag_key, tag_value, customer_id
-- depends_on: {{ ref('all_tags') }}, {{ ref('intraday_tags') }}
from {{ ref('intraday_tags') if lane() == 'intraday' else ref('all_tags') }}
{%- if lane() == 'new_tags' %}
where {{ in_lane('tag_key') }}
{%- endif %}

{#- One snapshot of the long table per as_of: the latest published run of each day. Old days are
    dropped by the publish step after the retention period. -#}
select as_of, customer_id, tag_key, tag_value
from {{ ref('tag_snapshots') }}
where (as_of, run_id) global in {{ published_run_per_as_of() }}

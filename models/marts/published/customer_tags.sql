{#- The long table BI reads: one row per customer and tag of the current published run. -#}
select as_of, customer_id, tag_key, tag_value
from {{ ref('tag_snapshots') }}
where (as_of, run_id) global in {{ current_published_run() }}

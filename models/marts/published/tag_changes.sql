{#- Who gained, lost or changed which tag on each published as_of, against the day before it. -#}
select as_of, customer_id, tag_key, change, old_value, new_value
from {{ ref('tag_change_log') }}
where (as_of, run_id) in {{ published_run_per_as_of() }}
